// The typed client of the daemon: one persistent connection, newline-delimited JSON-RPC 2.0,
// replies matched to requests by id so calls can be pipelined, a per-call timeout, and one method
// per API method, typed from the schemas (`client.allocate_cores({...})`). What the daemon sends
// unasked (JSON-RPC notifications, after `subscribe`) goes to listeners instead.
import { createConnection, type Socket } from 'node:net';
import { JSONRPCClient, createJSONRPCErrorResponse, type JSONRPCResponse } from 'json-rpc-2.0';
import { METHOD_NAMES } from '../../schema/names.js';
import type { MethodName } from '../../schema/names.js';
import type { ParamsOf, ResultOf } from '../../schema/methods.js';
// Types only: schema/notifications.ts loads typebox, which the client must not load at run time.
import type { ALLOCATION_CHANGED as AllocationChangedName, AllocationChangedParams } from '../../schema/notifications.js';
import { EpaConnectionError, EpaError, EpaTimeoutError } from './errors.js';

/** The method name of the daemon's allocation_changed notification (checked against the schema's). */
export const ALLOCATION_CHANGED: typeof AllocationChangedName = 'allocation_changed';

/** Called with each notification the daemon sends: its method and its params as sent. */
export type NotificationListener = (method: string, params: unknown) => void;

/**
 * Called once when the connection ends: with the error when it was lost (the daemon closed it, or
 * the socket failed), without one when `close()` ended it.
 */
export type CloseListener = (error?: EpaConnectionError) => void;

export interface CallOptions {
  /** Give up after this many ms with EpaTimeoutError; 0 waits for ever. Default: the client's. */
  readonly timeoutMs?: number;
}

export interface EpaClientOptions {
  /** The timeout of every call that sets none; default 0 (wait for ever). */
  readonly timeoutMs?: number;
}

/** A method's arguments: its params (optional when it needs none), then per-call options. */
type ArgsOf<M extends MethodName> = Record<string, never> extends ParamsOf<M>
  ? [params?: ParamsOf<M>, options?: CallOptions]
  : [params: ParamsOf<M>, options?: CallOptions];

/** One method per API method, under the method's own name. */
export type EpaMethods = { readonly [M in MethodName]: (...args: ArgsOf<M>) => Promise<ResultOf<M>> };

/** Connects to a Unix socket; rejects with EpaConnectionError naming the socket and the errno. */
export function openUnixSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new EpaConnectionError(path, `cannot connect to ${path}: ${error.message}`, error.code));
    });
  });
}

/** Marks a reply made up by the client when a call times out (never sent by the daemon). */
const TIMED_OUT = Object.freeze({ timedOut: true });

/** A JSON-RPC notification: a request object with a method and no id (it expects no answer). */
function isNotification(message: unknown): message is { method: string; params?: unknown } {
  return (
    typeof message === 'object' &&
    message !== null &&
    !Array.isArray(message) &&
    typeof (message as { method?: unknown }).method === 'string' &&
    !('id' in message)
  );
}

/** Runs each listener; one that throws does not keep the others (or the reading) from running. */
function callEach<A extends unknown[]>(listeners: Iterable<(...args: A) => void>, ...args: A): void {
  for (const listener of [...listeners]) {
    try {
      listener(...args);
    } catch (error) {
      // As an EventEmitter would: the error is the program's, reported as uncaught.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

export class EpaConnection {
  readonly #rpc: JSONRPCClient;
  #buffer = '';
  #lost: EpaConnectionError | undefined;
  #lastId = 0;
  readonly #notificationListeners = new Set<NotificationListener>();
  readonly #closeListeners = new Set<CloseListener>();
  /** close() was called: the end that follows is ours, not a lost connection. */
  #closing = false;
  /** The connection has ended; `endError` says why when it was lost. */
  #ended = false;
  #endError: EpaConnectionError | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly socket: Socket,
    private readonly options: EpaClientOptions,
  ) {
    this.#rpc = new JSONRPCClient((request) => {
      if (this.#lost) return Promise.reject(this.#lost);
      this.socket.write(`${JSON.stringify(request)}\n`);
      return Promise.resolve();
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => {
      this.#fail(new EpaConnectionError(socketPath, this.#closing ? 'connection closed' : 'connection closed by the daemon'));
      this.#end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => this.#fail(new EpaConnectionError(socketPath, error.message, error.code)));
  }

  /** Opens a persistent connection to the daemon's socket. */
  static async connect(socketPath: string, options: EpaClientOptions = {}): Promise<EpaClient> {
    return new EpaConnection(socketPath, await openUnixSocket(socketPath), options) as unknown as EpaClient;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let newline = this.#buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line.trim() !== '') this.#receive(JSON.parse(line) as unknown);
      newline = this.#buffer.indexOf('\n');
    }
  }

  /** A reply goes to the call waiting for it; a notification to the listeners. */
  #receive(message: unknown): void {
    if (isNotification(message)) callEach(this.#notificationListeners, message.method, message.params);
    else this.#rpc.receive(message as JSONRPCResponse);
  }

  #fail(error: EpaConnectionError): void {
    if (this.#lost) return;
    this.#lost = error;
    this.#rpc.rejectAllPendingRequests(error.message);
  }

  /** The socket has closed: tells the close listeners, once. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endError = this.#closing ? undefined : this.#lost;
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    callEach(listeners, this.#endError);
  }

  /**
   * Calls `listener` with every notification the daemon sends on this connection (its method and
   * params), in the order they arrive. Returns the function that removes it.
   */
  onNotification(listener: NotificationListener): () => void {
    const own: NotificationListener = (method, params) => listener(method, params);
    this.#notificationListeners.add(own);
    return () => this.#notificationListeners.delete(own);
  }

  /**
   * Calls `listener` with each allocation_changed notification: one service's CPUs or hugepage
   * reservations changed. The daemon sends them only after `subscribe()` on this connection.
   * Returns the function that removes it.
   */
  onAllocationChanged(listener: (change: AllocationChangedParams) => void): () => void {
    return this.onNotification((method, params) => {
      if (method === ALLOCATION_CHANGED) listener(params as AllocationChangedParams);
    });
  }

  /**
   * Calls `listener` once when the connection ends: with an EpaConnectionError when it was lost
   * (the daemon closed it, e.g. on its shutdown, or the socket failed), with no argument when
   * `close()` ended it. Added after the end, it is called at once (in a microtask). Returns the
   * function that removes it.
   */
  onClose(listener: CloseListener): () => void {
    const own: CloseListener = (error) => listener(error);
    if (this.#ended) {
      const error = this.#endError;
      queueMicrotask(() => callEach([own], error));
      return () => undefined;
    }
    this.#closeListeners.add(own);
    return () => this.#closeListeners.delete(own);
  }

  /** Calls a method by name; resolves with its result, or rejects with an Epa*Error. */
  call<M extends MethodName>(method: M, ...args: ArgsOf<M>): Promise<ResultOf<M>>;
  call(method: string, params?: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  async call(method: string, params: object = {}, options: CallOptions = {}): Promise<unknown> {
    if (this.#lost) throw this.#lost;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 0;
    const requester =
      timeoutMs > 0 ? this.#rpc.timeout(timeoutMs, (id) => createJSONRPCErrorResponse(id, 0, 'timeout', TIMED_OUT)) : this.#rpc;
    const response = await requester.requestAdvanced({ jsonrpc: '2.0', id: ++this.#lastId, method, params });
    if (response.error?.data === TIMED_OUT) throw new EpaTimeoutError(method, timeoutMs);
    // json-rpc-2.0 answers the pending calls of a lost connection itself: that is no answer of the
    // daemon, so it is the connection's error.
    // (Read again after the await: the connection may have been lost meanwhile.)
    const lost = this.#lost as EpaConnectionError | undefined;
    if (response.error && lost) throw lost;
    if (response.error) throw new EpaError(response.error.code, response.error.message, response.error.data);
    return response.result;
  }

  /** Ends the connection once what was written is sent; later calls fail. */
  close(): void {
    if (!this.#lost) this.#closing = true;
    this.socket.end();
  }
}

// Each API method calls `call` under its own name.
for (const name of METHOD_NAMES) {
  Object.defineProperty(EpaConnection.prototype, name, {
    value(this: EpaConnection, params?: object, options?: CallOptions) {
      return this.call(name, params as Record<string, unknown>, options);
    },
  });
}

/** A connected client: `call`, `close`, and one typed method per API method. */
export type EpaClient = EpaConnection & EpaMethods;

/** The class, under the name clients use: `await EpaClient.connect(socketPath)`. */
export const EpaClient = EpaConnection;
