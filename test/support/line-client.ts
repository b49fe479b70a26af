// The one raw socket client of the tests: writes exact bytes, collects newline-ended lines, and
// knows when the other side closed. It has no timeouts of its own: a test that waits for a line
// that never comes is ended by mocha's timeout, and nothing here races the wall clock.
import { connect, type Socket } from 'node:net';

export interface LineClientOptions {
  /** Run on every line received (e.g. a check that no reply carries a stack trace). */
  readonly check?: (line: string) => void;
}

export class LineClient {
  /** Every complete line received so far, taken or not. */
  readonly received: string[] = [];
  /** Settles when the socket has closed, however it closed. */
  readonly closed: Promise<void>;
  #partial = '';
  #taken = 0;
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(
    readonly socket: Socket,
    private readonly options: LineClientOptions,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (this.#partial + text).split('\n');
      this.#partial = parts.pop()!;
      for (const line of parts) options.check?.(line);
      this.received.push(...parts);
      this.#notify();
    });
    // The server may reset a connection it closes while this client still writes: not a failure.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#notify();
        resolve();
      }),
    );
  }

  static connect(path: string, options: LineClientOptions = {}): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new LineClient(socket, options));
      });
    });
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  /** Writes bytes as they are. */
  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Writes bytes and settles once the socket has handed them to the kernel. */
  flush(bytes: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** Writes one message as JSON followed by a newline. */
  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next `count` lines not yet taken; fails if the connection closes first. */
  async lines(count: number): Promise<string[]> {
    while (this.received.length < this.#taken + count) {
      if (this.#ended) {
        throw new Error(`connection closed after ${this.received.length - this.#taken} of ${count} lines`);
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const lines = this.received.slice(this.#taken, this.#taken + count);
    this.#taken += count;
    return lines;
  }

  /** The next line not yet taken. */
  async line(): Promise<string> {
    const [line] = await this.lines(1);
    return line!;
  }

  /** The next line, parsed. */
  async reply(): Promise<unknown> {
    return JSON.parse(await this.line()) as unknown;
  }

  /** Sends one message and returns the next reply, parsed. */
  async roundTrip(message: unknown): Promise<unknown> {
    this.send(message);
    return this.reply();
  }

  /** Writes text as it is and returns the next reply, parsed. */
  async request(text: string): Promise<unknown> {
    this.write(text);
    return this.reply();
  }

  /** Waits for the close; then the lines not yet taken and any unfinished last line. */
  async rest(): Promise<{ lines: string[]; partial: string }> {
    await this.closed;
    const lines = this.received.slice(this.#taken);
    this.#taken = this.received.length;
    return { lines, partial: this.#partial };
  }

  /** Lines received and not yet taken, plus any partial line, as of now. */
  get pending(): { lines: readonly string[]; partial: string } {
    return { lines: this.received.slice(this.#taken), partial: this.#partial };
  }

  close(): void {
    this.socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
