// The JSON-RPC envelope: parse, check the shape, split batches, look the method up in our own
// table, validate params, run. json-rpc-2.0's server only ever sees one well-formed request.
import {
  JSONRPCErrorException,
  JSONRPCServer,
  createJSONRPCErrorResponse,
  type JSONRPCErrorResponse,
  type JSONRPCID,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import type { Logger } from 'winston';
import { DomainError, JSONRPC_ERRORS, isMethodName, validateParams } from '../../schema/index.js';
import type { MethodName, ResultOf } from '../../schema/index.js';
import type { App } from './app.js';
import { HANDLERS, type Handler } from './handlers.js';
import { isLegacyMessage, runLegacy } from './legacy.js';

export interface CallContext {
  readonly logger: Logger;
}

const DISCOVER = 'rpc.discover';
/**
 * Entries per batch. A reply can be hundreds of times its request (rpc.discover: 49 bytes in,
 * 19 kB out), and a 1 MiB batch of them would be answered with 400 MB; this keeps a batch's reply
 * within what one connection may have in flight anyway.
 */
export const MAX_BATCH = 256;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is JSONRPCID {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function errorReply(id: JSONRPCID, error: { code: number; message: string }, data?: unknown): JSONRPCErrorResponse {
  return createJSONRPCErrorResponse(id, error.code, error.message, data);
}

/**
 * The JSON text of each result object, kept as long as the object lives: reads answer with the
 * object memoised for the current ledger, so its text is made once per change, not once per call.
 */
const resultText = new WeakMap<object, string>();

function serialize(response: JSONRPCResponse): string {
  const result: unknown = response.result;
  if (response.error !== undefined || typeof result !== 'object' || result === null) return JSON.stringify(response);
  let text = resultText.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    resultText.set(result, text);
  }
  return `{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},"result":${text}}`;
}

export class Dispatcher {
  private readonly server: JSONRPCServer<CallContext>;

  constructor(
    private readonly app: App,
    private readonly openrpc: () => unknown,
  ) {
    this.server = new JSONRPCServer<CallContext>({
      // Every thrown error passes here, domain ones included: those are answers, not faults.
      errorListener: () => undefined,
    });
    this.server.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      if (error instanceof DomainError || error instanceof JSONRPCErrorException) {
        return createJSONRPCErrorResponse(id, error.code, error.message, error.data);
      }
      return errorReply(id, JSONRPC_ERRORS.INTERNAL_ERROR);
    };
    for (const name of Object.keys(HANDLERS) as MethodName[]) {
      this.server.addMethod(name, (params: unknown, ctx: CallContext) => this.call(name, params, ctx));
    }
    this.server.addMethod(DISCOVER, (params: unknown) => {
      if (params !== undefined && !(isObject(params) && Object.keys(params).length === 0)) {
        throw new JSONRPCErrorException(JSONRPC_ERRORS.INVALID_PARAMS.message, JSONRPC_ERRORS.INVALID_PARAMS.code, {
          errors: [{ path: '', message: 'rpc.discover takes no params' }],
        });
      }
      return this.openrpc();
    });
  }

  /** Answers one message (a request, a notification, a batch or a legacy one-shot object). */
  async handle(text: string, ctx: CallContext): Promise<string | undefined> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return JSON.stringify(errorReply(null, JSONRPC_ERRORS.PARSE_ERROR));
    }
    if (isLegacyMessage(message)) {
      return JSON.stringify(await runLegacy(message, (method, params) => this.call(method, params, ctx)));
    }
    if (Array.isArray(message)) {
      if (message.length === 0) return JSON.stringify(errorReply(null, JSONRPC_ERRORS.INVALID_REQUEST));
      if (message.length > MAX_BATCH) {
        return JSON.stringify(errorReply(null, JSONRPC_ERRORS.INVALID_REQUEST, { detail: `a batch holds at most ${MAX_BATCH} requests` }));
      }
      const replies = (await Promise.all(message.map((m) => this.one(m, ctx)))).filter((r) => r !== null);
      return replies.length === 0 ? undefined : `[${replies.map(serialize).join(',')}]`;
    }
    const reply = await this.one(message, ctx);
    return reply === null ? undefined : serialize(reply);
  }

  /** The reply to a protocol failure seen by the transport (message too large, bad UTF-8). */
  static protocolError(kind: 'oversized' | 'invalid-utf8'): string {
    const error = kind === 'oversized' ? JSONRPC_ERRORS.INVALID_REQUEST : JSONRPC_ERRORS.PARSE_ERROR;
    const detail = kind === 'oversized' ? 'message exceeds the size limit' : 'message is not valid UTF-8';
    return JSON.stringify(errorReply(null, error, { detail }));
  }

  private async one(request: unknown, ctx: CallContext): Promise<JSONRPCResponse | null> {
    if (
      !isObject(request) ||
      request.jsonrpc !== '2.0' ||
      typeof request.method !== 'string' ||
      ('id' in request && !isId(request.id)) ||
      ('params' in request && (typeof request.params !== 'object' || request.params === null))
    ) {
      const id = isObject(request) && isId(request.id) ? request.id : null;
      return errorReply(id, JSONRPC_ERRORS.INVALID_REQUEST);
    }
    const { method } = request;
    if (method !== DISCOVER && !isMethodName(method)) {
      return 'id' in request ? errorReply(request.id as JSONRPCID, JSONRPC_ERRORS.METHOD_NOT_FOUND) : null;
    }
    if (ctx.logger.isDebugEnabled()) ctx.logger.debug('request', { method, id: request.id });
    return this.server.receive(request as { jsonrpc: '2.0'; method: string; id?: JSONRPCID; params?: unknown }, ctx);
  }

  /** Validates params against the method's schema and runs its handler. */
  async call(method: string, params: unknown, ctx: CallContext): Promise<unknown> {
    if (!isMethodName(method)) throw new JSONRPCErrorException(JSONRPC_ERRORS.METHOD_NOT_FOUND.message, JSONRPC_ERRORS.METHOD_NOT_FOUND.code);
    return this.run(method, params ?? {}, ctx);
  }

  private async run<M extends MethodName>(method: M, params: unknown, ctx: CallContext): Promise<ResultOf<M>> {
    if (!isObject(params)) {
      throw new JSONRPCErrorException(JSONRPC_ERRORS.INVALID_PARAMS.message, JSONRPC_ERRORS.INVALID_PARAMS.code, {
        errors: [{ path: '', message: 'params must be an object of named parameters' }],
      });
    }
    const checked = validateParams(method, params);
    if (!checked.ok) {
      throw new JSONRPCErrorException(JSONRPC_ERRORS.INVALID_PARAMS.message, JSONRPC_ERRORS.INVALID_PARAMS.code, {
        errors: checked.errors,
      });
    }
    const handler = HANDLERS[method] as Handler<M>;
    try {
      const result = await handler.run(checked.value, this.app);
      if (handler.changes) {
        const service = (params as { service_name?: unknown }).service_name;
        ctx.logger.info(`${method} ${String(service)}: ${handler.describe?.(result) ?? 'done'}`, { method, service });
      }
      return result;
    } catch (error) {
      if (error instanceof DomainError) {
        ctx.logger.debug(`${method} refused: ${error.message}`, { method, reason: error.reason });
      } else if (!(error instanceof JSONRPCErrorException)) {
        ctx.logger.error(`${method} failed`, { method, error: error instanceof Error ? error.stack : String(error) });
      }
      throw error;
    }
  }
}
