// The daemon spoken to in text, as the examples show it: exactly what was sent and the reply as it
// arrived (the typed client would parse it). Each reply is checked to be one line, and to come
// alone (a notification that came with it would fail the exchange).
import type { Socket } from 'node:net';
import { openUnixSocket } from '../../src/client/index.js';

/** A reply that does not come within this long is an error, not a hang. */
const REPLY_TIMEOUT_MS = 5000;

/** The reply without its newline; anything but one line ending in "\n" is an error. */
function oneLine(reply: string): string {
  if (!reply.endsWith('\n') || reply.indexOf('\n') !== reply.length - 1) {
    throw new Error(`expected one reply line, got ${JSON.stringify(reply)}`);
  }
  return reply.slice(0, -1);
}

/** A persistent connection, one exchange at a time: each message sent gets one reply line. */
export class LineConnection {
  #received = '';
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#received += chunk;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  static async open(socketPath: string): Promise<LineConnection> {
    return new LineConnection(await openUnixSocket(socketPath));
  }

  /** Sends `message` and a newline; resolves with the reply line that comes back. */
  async exchange(message: string): Promise<string> {
    this.socket.write(`${message}\n`);
    await this.#until(() => this.#received.includes('\n'), `no reply to ${message}`);
    const reply = this.#received;
    this.#received = '';
    return oneLine(reply);
  }

  /** The next `count` lines the daemon sends unasked (notifications), without their newlines. */
  async unasked(count: number): Promise<string[]> {
    const complete = () => this.#received.split('\n').length - 1;
    await this.#until(() => complete() >= count, `expected ${count} notification(s), got ${complete()}`);
    const lines = this.#received.split('\n');
    this.#received = lines.slice(count).join('\n');
    return lines.slice(0, count);
  }

  async #until(done: () => boolean, failure: string): Promise<void> {
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (!done()) {
      const left = deadline - Date.now();
      if (this.#closed || left <= 0) throw new Error(failure);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * One request of the one-shot protocol, sent as the Python clients send it (no newline); the
 * reply is everything read until the daemon closes the connection.
 */
export async function oneShot(socketPath: string, message: string): Promise<string> {
  const socket = await openUnixSocket(socketPath);
  const reply = await new Promise<string>((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => reject(new Error(`the daemon did not close the connection after ${message}`)), REPLY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(message);
  }).finally(() => socket.destroy());
  return oneLine(reply);
}
