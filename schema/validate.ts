// ajv validators for every method's params and result, compiled once when this module loads.
// Values are never coerced or changed: a string "4" is not the integer 4.
import { Ajv } from 'ajv';
import type { ErrorObject as AjvError, ValidateFunction } from 'ajv';
import type { ValidationIssue } from './errors.js';
import { METHODS } from './methods.js';
import type { MethodName, ParamsOf, ResultOf } from './methods.js';

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: ValidationIssue[] };

// verbose: errors carry their schema, so a union can be reported by its description.
const ajv = new Ajv({ allErrors: true, coerceTypes: false, strict: true, verbose: true });

const paramValidators = new Map<string, ValidateFunction>(METHODS.map((m) => [m.name, ajv.compile(m.params)]));
// The daemon never checks its own results; tests do, so those validators compile on first use.
const resultValidators = new Map<string, ValidateFunction>();

function resultValidator(method: string): ValidateFunction | undefined {
  const cached = resultValidators.get(method);
  if (cached !== undefined) return cached;
  const definition = METHODS.find((m) => m.name === method);
  if (definition === undefined) return undefined;
  const validate = ajv.compile(definition.result);
  resultValidators.set(method, validate);
  return validate;
}

export function validateParams<M extends MethodName>(method: M, value: unknown): Validated<ParamsOf<M>> {
  return run(paramValidators.get(method), method, value);
}

/** Checks what a handler answers; the integration tests run every result through it. */
export function validateResult<M extends MethodName>(method: M, value: unknown): Validated<ResultOf<M>> {
  return run(resultValidator(method), method, value);
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
