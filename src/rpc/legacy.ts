// The Python snap's one-shot protocol (SPEC section 7): {"version":"1.0","action":<method>,...}
// answered as the result plus "version":"1.0", or {"version":"1.0","error":"<message>"}.
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { DomainError, isMethodName, methodByName } from '../../schema/index.js';

const VERSION = '1.0';

export type LegacyMessage = Record<string, unknown> & { action: unknown };

export function isLegacyMessage(message: unknown): message is LegacyMessage {
  return typeof message === 'object' && message !== null && !Array.isArray(message) && !('jsonrpc' in message) && 'action' in message;
}

function errorText(error: unknown): string {
  if (error instanceof JSONRPCErrorException) {
    const issues = (error.data as { errors?: { path: string; message: string }[] } | undefined)?.errors ?? [];
    return issues.length === 0 ? error.message : `${error.message}: ${issues.map((i) => `${i.path || 'params'} ${i.message}`).join('; ')}`;
  }
  if (error instanceof DomainError) return error.message;
  return 'Internal error';
}

/** An unknown action as named back: a string as sent; a JSON object or array by its kind (String() would run its members). */
function actionName(action: unknown): string {
  if (typeof action !== 'object' || action === null) return String(action);
  return Array.isArray(action) ? '(an array)' : '(an object)';
}

export async function runLegacy(
  message: LegacyMessage,
  call: (method: string, params: Record<string, unknown>) => Promise<unknown>,
): Promise<Record<string, unknown>> {
  const { action, ...params } = message;
  delete params.version;
  if (typeof action !== 'string' || !isMethodName(action)) {
    return { version: VERSION, error: `Unknown action: ${actionName(action)}` };
  }
  // Old clients send service_name with every action; a method that takes none ignores it.
  const schema = methodByName(action).params as { properties?: Record<string, unknown> };
  if (!schema.properties || !('service_name' in schema.properties)) delete params.service_name;
  try {
    const result = await call(action, params);
    return { ...(result as Record<string, unknown>), version: VERSION };
  } catch (error) {
    return { version: VERSION, error: errorText(error) };
  }
}
