// The JSON-RPC envelope and the order of requests on a connection. A Session parses each message,
// checks its shape, splits batches and looks the method up in our own table; then it *admits* the
// request, synchronously and in arrival order: params are validated and a change is planned at
// once against the latest ledger, so each request sees every change sent before it on the
// connection. A read waits only while an earlier change of its connection is not yet durable,
// then answers from the ledger right after that change, so no reply ever shows a state that could
// still be lost, nor the effect of a request sent after it.
// json-rpc-2.0's server then only turns each admitted outcome into a response.
// A connection that subscribed is sent allocation_changed notifications as changes become durable.
import {
  JSONRPCErrorException,
  JSONRPCServer,
  createJSONRPCErrorResponse,
  type JSONRPCErrorResponse,
  type JSONRPCID,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import type { Logger } from 'winston';
import { ALLOCATION_CHANGED, DomainError, JSONRPC_ERRORS, METHOD_NAMES, isMethodName, validateParams } from '../../schema/index.js';
import type { AllocationChangedParams, MethodName, ParamsOf, ResultOf } from '../../schema/index.js';
import type { Ledger } from '../allocator/index.js';
import { Memo } from '../memo/index.js';
import type { Reply } from '../transport/index.js';
import type { App } from './app.js';
import { HANDLERS, type ChangeHandler, type ConnectionHandler, type ReadHandler } from './handlers.js';
import { isLegacyMessage, legacyCall, legacyError, legacyResult } from './legacy.js';

const DISCOVER = 'rpc.discover';

/** Told of every admitted request once it is answered (metrics). */
export interface RequestObserver {
  /** `outcome` is "ok", the domain error's reason, or the JSON-RPC error's name (INVALID_PARAMS). */
  answered(method: MethodName, outcome: string, seconds: number): void;
}

/** The connection a session belongs to, as the transport gives it. */
export interface SessionConnection {
  readonly logger: Logger;
  /**
   * Sends a message unasked (a notification); false when the connection is gone or was closed
   * because too much waits for it.
   */
  push(text: string): boolean;
  /** Whether the connection waits for pushes (then it is not closed for being idle). */
  awaitPushes(on: boolean): void;
  /** Settles when the connection has closed. */
  readonly closed: Promise<void>;
}

export interface DispatcherOptions {
  /** The OpenRPC document rpc.discover answers. */
  readonly openrpc: () => unknown;
  /**
   * Entries per batch. A reply can be hundreds of times its request (rpc.discover: 49 bytes in,
   * 19 kB out), and a 1 MiB batch of them would be answered with 400 MB; the daemon passes the
   * transport's in-flight cap, so a batch's replies weigh what one connection may have in flight.
   */
  readonly maxBatch: number;
  readonly requests?: RequestObserver;
}

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

/** The name of each standard JSON-RPC error, by code: what the request metrics count. */
const JSONRPC_ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(JSONRPC_ERRORS).map(([name, error]) => [error.code, name]));

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
  readonly #subscribers = new Set<Session>();

  constructor(
    readonly app: App,
    readonly options: DispatcherOptions,
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
  session(connection: SessionConnection): Session {
    const session = new Session(this, connection);
    void connection.closed.then(() => this.#subscribers.delete(session));
    return session;
  }

  /** Subscribed connections, now. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  setSubscribed(session: Session, on: boolean): void {
    if (on) this.#subscribers.add(session);
    else this.#subscribers.delete(session);
    session.awaitPushes(on);
  }

  /** Sends each change to every subscriber; one that cannot take it any more is dropped. */
  notify(changes: readonly AllocationChangedParams[]): void {
    if (this.#subscribers.size === 0) return;
    for (const params of changes) {
      const text = JSON.stringify({ jsonrpc: '2.0', method: ALLOCATION_CHANGED, params });
      for (const session of this.#subscribers) {
        if (!session.push(text)) this.#subscribers.delete(session);
      }
    }
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

  private readonly logger: Logger;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly connection: SessionConnection,
  ) {
    this.logger = connection.logger;
  }

  push(text: string): boolean {
    return this.connection.push(text);
  }

  awaitPushes(on: boolean): void {
    this.connection.awaitPushes(on);
  }

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
      const { maxBatch } = this.dispatcher.options;
      if (message.length > maxBatch) {
        const detail = `a batch holds at most ${maxBatch} requests`;
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
    return attempt(this.dispatcher.options.openrpc);
  }

  /** Validates params and runs the method now, in arrival order (a read may wait: see #read). */
  #admit<M extends MethodName>(method: M, params: unknown): Promise<ResultOf<M>> {
    const began = performance.now();
    const outcome = this.#run(method, params);
    const answered = (how: string) => this.dispatcher.options.requests?.answered(method, how, (performance.now() - began) / 1000);
    return outcome.then(
      (result) => {
        const handler = HANDLERS[method];
        if (handler.kind === 'change') {
          const service = (params as { service_name?: unknown }).service_name;
          this.logger.info(`${method} ${String(service)}: ${handler.describe(result)}`, { method, service });
        }
        answered('ok');
        return result;
      },
      (error: unknown) => {
        if (error instanceof DomainError) {
          this.logger.debug(`${method} refused: ${error.message}`, { method, reason: error.reason });
          answered(error.reason);
        } else if (error instanceof JSONRPCErrorException) {
          answered(JSONRPC_ERROR_NAMES.get(error.code) ?? 'ERROR');
        } else {
          this.logger.error(`${method} failed`, { method, error: error instanceof Error ? error.stack : String(error) });
          answered('INTERNAL_ERROR');
        }
        throw error;
      },
    );
  }

  #run<M extends MethodName>(method: M, params: unknown): Promise<ResultOf<M>> {
    if (!isObject(params)) return Promise.reject(invalidParams([{ path: '', message: 'params must be an object of named parameters' }]));
    const checked = validateParams(method, params);
    if (!checked.ok) return Promise.reject(invalidParams(checked.errors));
    const handler = HANDLERS[method];
    switch (handler.kind) {
      case 'change':
        return this.#change(method, handler, checked.value);
      case 'read':
        return this.#read(handler, checked.value);
      case 'connection':
        return this.#onConnection(handler, checked.value);
    }
  }

  #onConnection<M extends MethodName>(handler: ConnectionHandler<M>, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return attempt(() => handler.run(params, { setSubscribed: (on) => this.dispatcher.setSubscribed(this, on) }));
  }

  /** Plans the change now, against the latest ledger; answers once it is durable. */
  #change<M extends MethodName>(method: M, handler: ChangeHandler<M>, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const { app } = this.dispatcher;
    let after: Ledger | undefined;
    const origin = { service: (params as { service_name: string }).service_name, method };
    const committed = attempt(() => {
      const plan = handler.plan(params, app);
      return app.change((ledger) => {
        const planned = plan(ledger);
        after = planned.next;
        return planned;
      }, origin);
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
