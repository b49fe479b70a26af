// One client connection: frames its bytes, hands each message to the handler while earlier ones
// are still in flight, and writes the replies in request order, each ending in '\n'.
//
// Memory per connection stays bounded: while the socket's write buffer is full, or while
// `maxInFlightPerConnection` requests await their reply being written, reading pauses and no new request
// starts, so a client that never reads its replies only stalls itself. Messages framed beyond that
// wait in the backlog, at most one chunk's worth since reading is paused meanwhile.
import type { Socket } from 'node:net';
import type { Logger } from 'winston';
import type { Clock, Timer } from '../clock/index.js';
import { MessageReader, type FrameEvent } from './framing.js';
import type { TransportLimits } from './limits.js';

/** What the server knows of a connection when it accepts it. */
export interface AcceptedConnection {
  readonly id: number;
  /** A child of the server's logger carrying the connection id. */
  readonly logger: Logger;
  /** Times the connection's timeouts. */
  readonly clock: Clock;
}

export interface ConnectionContext extends AcceptedConnection {
  /**
   * Writes a message unasked (a notification), between replies. False when the connection is
   * closing or gone, or when more than maxPushBacklogBytes wait to be sent: a client that does not
   * read is then disconnected rather than let its backlog grow.
   */
  push(text: string): boolean;
  /** A connection waiting for what is pushed to it is never closed for being idle. */
  awaitPushes(on: boolean): void;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;
}

/** What to send back for one message. */
export interface Reply {
  /** The reply without its newline; undefined when nothing is to be sent back. */
  readonly text: string | undefined;
  /** Close the connection once this reply is written, dropping whatever came after it. */
  readonly last?: boolean;
}

/** Answers the messages of one connection, in the order they arrived. */
export type MessageHandler = (message: string) => Promise<Reply>;

/** Called once per accepted connection: the handler of its messages. */
export type ConnectionHandler = (conn: ConnectionContext) => MessageHandler;

export type ProtocolErrorKind = 'oversized' | 'invalid-json' | 'invalid-utf8';

/** Returns the reply to a message the transport could not deliver; 'oversized' then closes. */
export type ProtocolErrorHandler = (kind: ProtocolErrorKind, conn: ConnectionContext) => string;

export type ConnectionLimits = Pick<
  TransportLimits,
  'maxMessageBytes' | 'maxInFlightPerConnection' | 'partialTimeoutMs' | 'idleTimeoutMs' | 'maxPushBacklogBytes'
>;

interface Slot {
  done: boolean;
  reply: string | undefined;
  /** Close the connection once this reply is written. */
  last: boolean;
}

const LF = 0x0a;

export class Connection {
  readonly context: ConnectionContext;
  readonly #socket: Socket;
  readonly #reader: MessageReader;
  readonly #handler: MessageHandler;
  readonly #onProtocolError: ProtocolErrorHandler;
  readonly #limits: ConnectionLimits;
  #backlog: FrameEvent[] = [];
  #slots: Slot[] = [];
  #running = 0;
  #paused = false;
  #writeBlocked = false;
  #corked = false;
  /** No more input will be taken: the peer ended, the server is closing, or a limit was hit. */
  #stopped = false;
  /** Our side is closing: nothing more is written. */
  #ending = false;
  #socketClosed = false;
  #awaitingPushes = false;
  /**
   * After an oversized message whose line had not ended: how many more of its bytes are read and
   * dropped before the socket is closed. Closing on unread input would make the kernel reset the
   * connection, and a client still writing its message would lose the error reply.
   */
  #lingerLeft: number | undefined;
  #partialTimer: Timer | undefined;
  #idleTimer: Timer | undefined;
  #stuckTimer: Timer | undefined;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;

  constructor(
    socket: Socket,
    accepted: AcceptedConnection,
    accept: ConnectionHandler,
    onProtocolError: ProtocolErrorHandler,
    limits: ConnectionLimits,
  ) {
    this.#socket = socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const context: ConnectionContext = {
      ...accepted,
      push: (text) => this.#push(text),
      awaitPushes: (on) => {
        this.#awaitingPushes = on;
        this.#updateIdle();
      },
      closed,
    };
    this.context = context;
    this.#handler = accept(context);
    this.#onProtocolError = onProtocolError;
    this.#limits = limits;
    this.#reader = new MessageReader(limits.maxMessageBytes);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onPeerEnd());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (error) => context.logger.debug('connection error', { error: error.message }));
    socket.on('close', () => this.#onClose());
    this.#updateIdle();
  }

  /** Settles once the socket has closed and no handler call of this connection is still running. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Take no more input and start nothing new; write the replies of requests in flight, then close. */
  shutdown(): void {
    if (this.#ending) return;
    this.#stopInput();
    this.#backlog = [];
    this.#pump();
  }

  #onData(chunk: Buffer): void {
    if (this.#lingerLeft !== undefined) {
      this.#drop(chunk);
      return;
    }
    if (this.#stopped) return;
    this.#clearIdle();
    const events = this.#reader.push(chunk);
    for (const event of events) this.#backlog.push(event);
    this.#pump();
    this.#updatePartialTimer(events.length > 0);
  }

  /** The peer sent EOF (a one-shot client may half-close and wait): answer, then close. */
  #onPeerEnd(): void {
    if (this.#lingerLeft !== undefined) this.#stopLingering();
    if (this.#stopped) return;
    for (const event of this.#reader.end()) this.#backlog.push(event);
    this.#stopInput();
    this.#pump();
  }

  #onDrain(): void {
    this.#writeBlocked = false;
    this.#pump();
  }

  #onClose(): void {
    this.#socketClosed = true;
    this.#ending = true;
    this.#slots = [];
    this.#backlog = [];
    this.#clearTimers();
    this.context.logger.debug('connection closed');
    this.#settleIfDone();
  }

  /** Writes every reply that is ready, in order, and starts queued messages while under the cap. */
  #pump(): void {
    for (;;) {
      this.#flush();
      if (this.#ending) return;
      if (this.#backlog.length === 0 || this.#writeBlocked || this.#slots.length >= this.#limits.maxInFlightPerConnection) {
        break;
      }
      this.#dispatch(this.#backlog.shift()!);
    }
    if (this.#stopped && this.#backlog.length === 0 && this.#slots.length === 0) {
      this.#end();
      return;
    }
    this.#updateFlow();
    this.#updateIdle();
  }

  #dispatch(event: FrameEvent): void {
    if (event.kind === 'message') {
      this.#startRequest(event.text);
      return;
    }
    this.context.logger.debug('protocol error', { kind: event.kind, bytes: event.bytes });
    const last = event.kind === 'oversized';
    if (event.kind === 'oversized') {
      this.context.logger.warn('message over the size limit; closing', { bytes: event.bytes });
      this.#stopInput();
      this.#backlog = [];
      if (event.open) this.#lingerLeft = this.#limits.maxMessageBytes;
    }
    let reply: string;
    try {
      reply = this.#onProtocolError(event.kind, this.context);
    } catch (error) {
      this.#handlerFailed(error);
      this.#slots.push({ done: true, reply: undefined, last: true });
      return;
    }
    this.#slots.push({ done: true, reply, last });
  }

  #startRequest(text: string): void {
    const slot: Slot = { done: false, reply: undefined, last: false };
    this.#slots.push(slot);
    this.#running++;
    void Promise.resolve()
      .then(() => this.#handler(text))
      .then(
        (reply) => {
          slot.reply = reply.text;
          slot.last = reply.last === true;
        },
        (error: unknown) => {
          slot.last = true;
          this.#handlerFailed(error);
        },
      )
      .finally(() => {
        slot.done = true;
        this.#running--;
        this.#pump();
        this.#settleIfDone();
      });
  }

  /**
   * A handler must answer every message itself (the RPC layer turns its own failures into error
   * replies); if one throws anyway, the connection is closed rather than leave the client waiting.
   */
  #handlerFailed(error: unknown): void {
    this.context.logger.error('message handler failed; closing the connection', {
      error: error instanceof Error ? error.message : String(error),
    });
    this.#stopInput();
    this.#backlog = [];
  }

  #flush(): void {
    while (!this.#ending && this.#slots[0]?.done === true) {
      const slot = this.#slots.shift()!;
      if (slot.reply !== undefined) this.#write(slot.reply);
      if (slot.last) this.#end();
    }
  }

  #push(text: string): boolean {
    if (this.#ending || this.#socketClosed) return false;
    this.#write(text);
    const waiting = this.#socket.writableLength;
    if (waiting <= this.#limits.maxPushBacklogBytes) return true;
    this.context.logger.warn('client not reading what it subscribed to; closing', { waitingBytes: waiting });
    this.#socket.destroy();
    return false;
  }

  /** Replies finished in the same tick leave in one socket write (corked until the next tick). */
  #write(text: string): void {
    if (!this.#socket.writable) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    if (!this.#socket.write(text + '\n') && !this.#writeBlocked) {
      this.#writeBlocked = true;
      const { logger } = this.context;
      if (logger.isDebugEnabled()) logger.debug('write buffer full; no new request until the client takes its replies');
    }
  }

  /** Reads only while the writer keeps up and fewer than maxInFlightPerConnection replies are outstanding. */
  #updateFlow(): void {
    const read =
      !this.#stopped && !this.#ending && !this.#writeBlocked && this.#slots.length < this.#limits.maxInFlightPerConnection;
    if (read && this.#paused) {
      this.#paused = false;
      this.#socket.resume();
      // The wait was ours, not the client's: its partial message gets a fresh timer.
      this.#updatePartialTimer(true);
    } else if (!read && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
      this.#clearPartialTimer();
    }
  }

  #updatePartialTimer(restart: boolean): void {
    if (!this.#reader.hasPartial || this.#paused || this.#stopped) {
      this.#clearPartialTimer();
      return;
    }
    if (this.#partialTimer !== undefined && !restart) return;
    this.#clearPartialTimer();
    this.#partialTimer = this.context.clock.after(this.#limits.partialTimeoutMs, () => {
      this.#partialTimer = undefined;
      this.context.logger.warn('incomplete message timed out; closing', {
        timeoutMs: this.#limits.partialTimeoutMs,
      });
      this.shutdown();
    });
  }

  /** Idle: no bytes coming in, no request running (a backlog held up by a client not reading counts). */
  #updateIdle(): void {
    const idle = !this.#ending && !this.#awaitingPushes && this.#slots.length === 0 && !this.#reader.hasPartial;
    if (!idle) {
      this.#clearIdle();
    } else if (this.#idleTimer === undefined) {
      this.#idleTimer = this.context.clock.after(this.#limits.idleTimeoutMs, () => {
        this.#idleTimer = undefined;
        this.context.logger.debug('idle connection closed', { timeoutMs: this.#limits.idleTimeoutMs });
        this.shutdown();
      });
    }
  }

  #stopInput(): void {
    this.#stopped = true;
    this.#clearPartialTimer();
    this.#updateFlow();
  }

  /** Half-closes once what is written has been flushed, then releases the socket. */
  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#slots = [];
    this.#backlog = [];
    this.#clearIdle();
    this.#clearPartialTimer();
    this.#socket.end(() => {
      if (this.#lingerLeft === undefined) this.#socket.destroy();
    });
    if (this.#lingerLeft !== undefined) this.#socket.resume();
    // A client that will not take its last bytes gets as long as it would get to finish a
    // message; then the socket goes, so closing never waits on a client for ever.
    this.#stuckTimer = this.context.clock.after(this.#limits.partialTimeoutMs, () => {
      this.context.logger.debug('client not reading its last replies; dropping the connection');
      this.#socket.destroy();
    });
  }

  /** Drops input of the oversized message until its line ends or the allowance is spent. */
  #drop(chunk: Buffer): void {
    const newline = chunk.indexOf(LF);
    const left = this.#lingerLeft! - (newline < 0 ? chunk.length : newline);
    if (newline < 0 && left > 0) this.#lingerLeft = left;
    else this.#stopLingering();
  }

  #stopLingering(): void {
    this.#lingerLeft = undefined;
    if (this.#ending) this.#socket.destroy();
    else this.#socket.pause();
  }

  #settleIfDone(): void {
    if (this.#socketClosed && this.#running === 0) this.#resolveDone();
  }

  #clearIdle(): void {
    this.#idleTimer?.cancel();
    this.#idleTimer = undefined;
  }

  #clearPartialTimer(): void {
    this.#partialTimer?.cancel();
    this.#partialTimer = undefined;
  }

  #clearTimers(): void {
    this.#clearIdle();
    this.#clearPartialTimer();
    this.#stuckTimer?.cancel();
    this.#stuckTimer = undefined;
  }
}
