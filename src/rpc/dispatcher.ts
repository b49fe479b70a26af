// The JSON-RPC envelope and the order of requests on a connection. A Session parses each message,
// checks its shape, splits batches and looks the method up in our own table; then it *admits* the
// request, synchronously and in arrival order: params are validated and a change is planned at
// once against the latest ledger, so each request sees every change sent before it on the
// connection. A read waits only while an earlier change of its connection is not yet durable,
// then answers from the ledger right after that change, so no reply ever shows a state that could
// still be lost, nor the effect of a request sent after it.
// json-rpc-2.0's server then only turns each admitted outcome into a response.
import {
  JSONRPCErrorException,
  JSONRPCServer,
  createJSONRPCErrorResponse,
  type JSONRPCErrorResponse,
  type JSONRPCID,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import type { Logger } from 'winston';
import { DomainError, JSONRPC_ERRORS, METHOD_NAMES, isMethodName, validateParams } from '../../schema/index.js';
import type { MethodName, ParamsOf, ResultOf } from '../../schema/index.js';
import type { Ledger } from '../allocator/index.js';
import { Memo } from '../memo/index.js';
import type { Reply } from '../transport/index.js';
import type { App } from './app.js';
import { HANDLERS, type ChangeHandler, type ReadHandler } from './handlers.js';
import { isLegacyMessage, legacyCall, legacyError, legacyResult } from './legacy.js';

const DISCOVER = 'rpc.discover';

/** What json-rpc-2.0 hands each method: the outcome its request was admitted with. */
interface Admitted {
  readonly outcome: Promise<unknown>;
}

type Request = { jsonrpc: '2.0'; method: string; id?: JSONRPCID; params?: unknown };

const NO_REPLY: Reply = { text: undefined };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is JSONRPCID {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function errorReply(id: JSONRPCID, error: { code: number; message: string }, data?: unknown): JSONRPCErrorResponse {
  return createJSONRPCErrorResponse(id, error.code, error.message, data);
}

function invalidParams(errors: { path: string; message: string }[]): JSONRPCErrorException {
  return new JSONRPCErrorException(JSONRPC_ERRORS.INVALID_PARAMS.message, JSONRPC_ERRORS.INVALID_PARAMS.code, { errors });
}

/** Runs fn now; what it throws becomes a rejected promise, what it returns a settled one. */
function attempt<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

const ignore = (): void => undefined;

/**
 * The JSON text of each result object, kept as long as the object lives: reads answer with the
 * object memoised for the current ledger, so its text is made once per change, not once per call.
 */
const resultTexts = new Memo<[object], string>();

function serialize(response: JSONRPCResponse): string {
  const result: unknown = response.result;
  if (response.error !== undefined || typeof result !== 'object' || result === null) return JSON.stringify(response);
  const text = resultTexts.get([result], () => JSON.stringify(result));
  return `{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},"result":${text}}`;
}

export class Dispatcher {
  readonly server: JSONRPCServer<Admitted>;

  /**
   * @param maxBatch Entries per batch. A reply can be hundreds of times its request (rpc.discover:
   *   49 bytes in, 19 kB out), and a 1 MiB batch of them would be answered with 400 MB; the
   *   daemon passes the transport's in-flight cap, so a batch's replies weigh what one
   *   connection may have in flight anyway.
   */
  constructor(
    readonly app: App,
    readonly openrpc: () => unknown,
    readonly maxBatch: number,
  ) {
    this.server = new JSONRPCServer<Admitted>({
      // Every thrown error passes here, domain ones included: those are answers, not faults.
      errorListener: ignore,
    });
    this.server.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      if (error instanceof DomainError || error instanceof JSONRPCErrorException) {
        return createJSONRPCErrorResponse(id, error.code, error.message, error.data);
      }
      return errorReply(id, JSONRPC_ERRORS.INTERNAL_ERROR);
    };
    for (const name of [...METHOD_NAMES, DISCOVER]) {
      this.server.addMethod(name, (_params: unknown, admitted: Admitted) => admitted.outcome);
    }
  }

  /** The requests of one connection, answered in the order the connection sent them. */
  session(logger: Logger): Session {
    return new Session(this, logger);
  }

  /** The reply to a protocol failure seen by the transport (too large, not JSON, bad UTF-8). */
  static protocolError(kind: 'oversized' | 'invalid-json' | 'invalid-utf8'): string {
    if (kind === 'invalid-json') return JSON.stringify(errorReply(null, JSONRPC_ERRORS.PARSE_ERROR));
    const error = kind === 'oversized' ? JSONRPC_ERRORS.INVALID_REQUEST : JSONRPC_ERRORS.PARSE_ERROR;
    const detail = kind === 'oversized' ? 'message exceeds the size limit' : 'message is not valid UTF-8';
    return JSON.stringify(errorReply(null, error, { detail }));
  }
}

export class Session {
  /**
   * While the latest change admitted on this connection is not yet durable: resolves with the
   * ledger right after it once it is, or with undefined if it failed (then nothing of it remains).
   */
  #afterLastChange: Promise<Ledger | undefined> | undefined;
  /** A one-shot message was answered last: the connection is closing, nothing more is run. */
  #finished = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {}

  /**
   * Answers one message (a request, a notification, a batch or a one-shot object). Everything up
   * to the first await runs at once, so messages are admitted in the order they are handed in.
   */
  async handle(text: string): Promise<Reply> {
    if (this.#finished) return NO_REPLY;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return { text: JSON.stringify(errorReply(null, JSONRPC_ERRORS.PARSE_ERROR)) };
    }
    if (isLegacyMessage(message)) {
      // The Python daemon answered one request per connection and closed it.
      this.#finished = true;
      const call = legacyCall(message);
      const reply = call.ok
        ? await this.#admit(call.method, call.params).then((result) => legacyResult(call.method, result), legacyError)
        : legacyError(call.error);
      return { text: JSON.stringify(reply), last: true };
    }
    if (Array.isArray(message)) {
      if (message.length === 0) return { text: JSON.stringify(errorReply(null, JSONRPC_ERRORS.INVALID_REQUEST)) };
      if (message.length > this.dispatcher.maxBatch) {
        const detail = `a batch holds at most ${this.dispatcher.maxBatch} requests`;
        return { text: JSON.stringify(errorReply(null, JSONRPC_ERRORS.INVALID_REQUEST, { detail })) };
      }
      const pending = message.map((request) => this.#request(request));
      const replies = (await Promise.all(pending)).filter((reply) => reply !== null);
      return { text: replies.length === 0 ? undefined : `[${replies.map(serialize).join(',')}]` };
    }
    const reply = await this.#request(message);
    return reply === null ? NO_REPLY : { text: serialize(reply) };
  }

  /** One request of the envelope: refused for its shape or method, or admitted and answered. */
  #request(request: unknown): Promise<JSONRPCResponse | null> {
    if (
      !isObject(request) ||
      request.jsonrpc !== '2.0' ||
      typeof request.method !== 'string' ||
      ('id' in request && !isId(request.id)) ||
      ('params' in request && (typeof request.params !== 'object' || request.params === null))
    ) {
      const id = isObject(request) && isId(request.id) ? request.id : null;
      return Promise.resolve(errorReply(id, JSONRPC_ERRORS.INVALID_REQUEST));
    }
    const { method } = request;
    if (method !== DISCOVER && !isMethodName(method)) {
      const reply = 'id' in request ? errorReply(request.id as JSONRPCID, JSONRPC_ERRORS.METHOD_NOT_FOUND) : null;
      return Promise.resolve(reply);
    }
    if (this.logger.isDebugEnabled()) this.logger.debug('request', { method, id: request.id });
    const outcome = method === DISCOVER ? this.#discover(request.params) : this.#admit(method, request.params ?? {});
    return Promise.resolve(this.dispatcher.server.receive(request as Request, { outcome }));
  }

  #discover(params: unknown): Promise<unknown> {
    if (params !== undefined && !(isObject(params) && Object.keys(params).length === 0)) {
      return Promise.reject(invalidParams([{ path: '', message: 'rpc.discover takes no params' }]));
    }
    return attempt(this.dispatcher.openrpc);
  }

  /** Validates params and runs the method now, in arrival order (a read may wait: see #read). */
  #admit<M extends MethodName>(method: M, params: unknown): Promise<ResultOf<M>> {
    if (!isObject(params)) return Promise.reject(invalidParams([{ path: '', message: 'params must be an object of named parameters' }]));
    const checked = validateParams(method, params);
    if (!checked.ok) return Promise.reject(invalidParams(checked.errors));
    const handler = HANDLERS[method];
    const outcome = handler.changes ? this.#change(handler, checked.value) : this.#read(handler, checked.value);
    return outcome.then(
      (result) => {
        if (handler.changes) {
          const service = (params as { service_name?: unknown }).service_name;
          this.logger.info(`${method} ${String(service)}: ${handler.describe(result)}`, { method, service });
        }
        return result;
      },
      (error: unknown) => {
        if (error instanceof DomainError) {
          this.logger.debug(`${method} refused: ${error.message}`, { method, reason: error.reason });
        } else if (!(error instanceof JSONRPCErrorException)) {
          this.logger.error(`${method} failed`, { method, error: error instanceof Error ? error.stack : String(error) });
        }
        throw error;
      },
    );
  }

  /** Plans the change now, against the latest ledger; answers once it is durable. */
  #change<M extends MethodName>(handler: ChangeHandler<M>, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const { app } = this.dispatcher;
    let after: Ledger | undefined;
    const committed = attempt(() => {
      const plan = handler.plan(params, app);
      return app.change((ledger) => {
        const planned = plan(ledger);
        after = planned.next;
        return planned;
      });
    });
    // Planning is synchronous: no ledger now means the plan was refused and nothing changed.
    if (after === undefined) return committed;
    const next = after;
    const settled = committed.then(
      () => next,
      () => undefined,
    );
    this.#afterLastChange = settled;
    void settled.then(() => {
      if (this.#afterLastChange === settled) this.#afterLastChange = undefined;
    });
    return committed;
  }

  /**
   * Answers from the durable ledger now, or, while a change of this connection is on its way to
   * disk, from the ledger right after that change once it is durable: never a later one, which
   * would show the effect of requests sent after this one.
   */
  #read<M extends MethodName>(handler: ReadHandler<M>, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const { app } = this.dispatcher;
    const pending = this.#afterLastChange;
    if (pending === undefined) return attempt(() => handler.run(params, app, app.ledger()));
    return pending.then((ledger) => handler.run(params, app, ledger ?? app.ledger()));
  }
}
