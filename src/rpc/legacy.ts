// The Python snap's one-shot protocol (docs/api.md): {"version":"1.0","action":<method>,...}
// answered as the result plus "version":"1.0", or {"version":"1.0","error":"<message>"}. It follows
// what the Python daemon accepted (pydantic's defaults): unknown members are ignored, null is
// absent, integers may come as decimal strings, and its own sentences name the errors. What is
// left goes through the same schemas and handlers as JSON-RPC.
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { DomainError, isMethodName, methodByName } from '../../schema/index.js';
import type { MethodName } from '../../schema/index.js';

export const LEGACY_VERSION = '1.0';

export type LegacyMessage = Record<string, unknown>;

/** A message of the one-shot protocol: an object with `action` or `version` and no `jsonrpc`. */
export function isLegacyMessage(message: unknown): message is LegacyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    !Array.isArray(message) &&
    !('jsonrpc' in message) &&
    ('action' in message || 'version' in message)
  );
}

/** The call a one-shot message asks for, or the Python daemon's sentence for why it cannot be made. */
export type LegacyCall =
  | { readonly ok: true; readonly method: MethodName; readonly params: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

/** Methods of a persistent connection, which a one-shot client (closed after its reply) cannot use. */
const NOT_ONE_SHOT: ReadonlySet<MethodName> = new Set(['subscribe', 'unsubscribe']);

/** The Python models' defaults for members a client may leave out. */
const PYTHON_DEFAULTS: Partial<Record<MethodName, Readonly<Record<string, unknown>>>> = {
  allocate_cores: { num_of_cores: 0 },
};

/** Counts where 0 is refused with a sentence of the Python daemon's own. */
const ZERO_REFUSED: Partial<Record<MethodName, string>> = {
  allocate_numa_cores: 'num_of_cores',
  allocate_hugepages: 'hugepages_requested',
};

/** How Python's str() shows a JSON value, as the Python daemon names a bad action or version. */
function pythonText(value: unknown): string {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

interface JsonSchemaLike {
  readonly type?: unknown;
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchemaLike[];
}

/** Whether a param's schema takes integers (a plain integer, or a union such as `N ≥ 1 or -1`). */
function takesIntegers(schema: JsonSchemaLike | undefined): boolean {
  if (schema === undefined) return false;
  if (schema.type === 'integer' || Number.isInteger(schema.const)) return true;
  return schema.anyOf?.some(takesIntegers) ?? false;
}

const DECIMAL = /^\s*[-+]?\d+\s*$/;

/** pydantic's lax mode took an integer written as a decimal string ("2"); so do we. */
function laxInteger(schema: JsonSchemaLike | undefined, value: unknown): unknown {
  if (typeof value !== 'string' || !DECIMAL.test(value) || !takesIntegers(schema)) return value;
  const number = Number(value.trim());
  return Number.isSafeInteger(number) ? number : value;
}

/** Reads a one-shot message: which method, with which params (still to be validated). */
export function legacyCall(message: LegacyMessage): LegacyCall {
  const { action, version } = message;
  if (version !== undefined && version !== null && version !== LEGACY_VERSION) {
    return { ok: false, error: `Unsupported version: ${pythonText(version)}` };
  }
  if (typeof action !== 'string' || !isMethodName(action) || NOT_ONE_SHOT.has(action)) {
    return { ok: false, error: `Unknown action: ${pythonText(action)}` };
  }
  const properties = (methodByName(action).params as { properties: Record<string, JsonSchemaLike> }).properties;
  const params: Record<string, unknown> = { ...PYTHON_DEFAULTS[action] };
  for (const [name, value] of Object.entries(message)) {
    // Members the method does not take are ignored, as pydantic ignores them; null is absent.
    if (value === null || !Object.hasOwn(properties, name)) continue;
    params[name] = laxInteger(properties[name], value);
  }
  const zeroRefused = ZERO_REFUSED[action];
  if (zeroRefused !== undefined && params[zeroRefused] === 0) {
    return { ok: false, error: `${zeroRefused}=0 is invalid for ${action}` };
  }
  return { ok: true, method: action, params };
}

/** The Python replies' types where ours differ: a list entry's policy is never null there. */
const PYTHON_RESULT_SHAPES: Partial<Record<MethodName, (result: Record<string, unknown>) => Record<string, unknown>>> = {
  list_allocations: (result) => ({
    ...result,
    allocations: (result.allocations as Record<string, unknown>[]).map((entry) =>
      entry.preemption_policy === null ? { ...entry, preemption_policy: 'legacy' } : entry,
    ),
  }),
};

/** The reply to a successful call: the result with "version":"1.0" (the result is never changed). */
export function legacyResult(method: MethodName, result: unknown): Record<string, unknown> {
  const fields = result as Record<string, unknown>;
  const shaped = PYTHON_RESULT_SHAPES[method]?.(fields) ?? fields;
  return { ...shaped, version: LEGACY_VERSION };
}

/** The reply to a failed call: {"version":"1.0","error":<sentence>}. */
export function legacyError(error: unknown): Record<string, unknown> {
  return { version: LEGACY_VERSION, error: errorText(error) };
}

/** A sentence for the error: the domain error's own, or the invalid params with the fields named. */
function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof JSONRPCErrorException) {
    const issues = (error.data as { errors?: { path: string; message: string }[] } | undefined)?.errors ?? [];
    return issues.length === 0 ? error.message : `${error.message}: ${issues.map((i) => `${i.path || 'params'} ${i.message}`).join('; ')}`;
  }
  if (error instanceof DomainError) return error.message;
  return 'Internal error';
}
