// ajv validators for every method's params and result, each compiled once, when first used.
// Values are never coerced or changed: a string "4" is not the integer 4.
import { Ajv } from 'ajv';
import type { ErrorObject as AjvError, ValidateFunction } from 'ajv';
import type { ValidationIssue } from './errors.js';
import { METHODS } from './methods.js';
import type { MethodName, ParamsOf, ResultOf } from './methods.js';
import { NOTIFICATIONS } from './notifications.js';

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: ValidationIssue[] };

// verbose: errors carry their schema, so a union can be reported by its description.
const ajv = new Ajv({ allErrors: true, coerceTypes: false, strict: true, verbose: true });

type Part = 'params' | 'result' | 'notification';
const compiled = new Map<string, ValidateFunction>();

/** The validator of a method's params or result, or a notification's params, compiled the first time it is asked for. */
function validatorOf(method: string, part: Part): ValidateFunction | undefined {
  const key = `${method} ${part}`;
  let validate = compiled.get(key);
  if (validate === undefined) {
    const schema =
      part === 'notification'
        ? NOTIFICATIONS.find((n) => n.name === method)?.params
        : METHODS.find((m) => m.name === method)?.[part];
    if (schema === undefined) return undefined;
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

export function validateParams<M extends MethodName>(method: M, value: unknown): Validated<ParamsOf<M>> {
  return run(validatorOf(method, 'params'), method, value);
}

/** Checks what a handler answers; the daemon never does, the tests run every result through it. */
export function validateResult<M extends MethodName>(method: M, value: unknown): Validated<ResultOf<M>> {
  return run(validatorOf(method, 'result'), method, value);
}

/** Checks the params of a notification the daemon sends; undefined names no notification. */
export function validateNotification(name: string, value: unknown): Validated<unknown> | undefined {
  const validate = validatorOf(name, 'notification');
  return validate === undefined ? undefined : run(validate, name, value);
}

function run<T>(validate: ValidateFunction | undefined, method: string, value: unknown): Validated<T> {
  if (validate === undefined) throw new Error(`no schema for method ${JSON.stringify(method)}`);
  if (validate(value)) return { ok: true, value: value as T };
  return { ok: false, errors: toIssues(validate.errors ?? []) };
}

/**
 * Turns ajv's errors into {path, message} a user can act on: the path names the field (a missing
 * or unknown member included), and a union is reported once, by its description, instead of once
 * per branch.
 */
export function toIssues(errors: readonly AjvError[]): ValidationIssue[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const issues = errors
    .filter((e) => !unions.some((prefix) => e.schemaPath.startsWith(prefix)))
    .map(toIssue);
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\n${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toIssue(error: AjvError): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: child(error.instancePath, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        path: child(error.instancePath, String(params.additionalProperty)),
        message: 'is not a known parameter',
      };
    case 'anyOf': {
      const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
      const message = typeof description === 'string' ? `must be ${description}` : (error.message ?? 'is invalid');
      return { path: error.instancePath, message };
    }
    default:
      return { path: error.instancePath, message: error.message ?? 'is invalid' };
  }
}

/** JSON Pointer of a member (RFC 6901 escaping). */
function child(pointer: string, name: string): string {
  return `${pointer}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}
