// The socket calls the Python clients of the daemon make, with Python's semantics, so the client
// emulations in this directory speak exactly as the real programs do on the wire:
// socket(AF_UNIX, SOCK_STREAM), settimeout, connect, sendall, recv(bufsize), close; and the two
// ways they write JSON (json.dumps with its default separators, pydantic's compact .json()).
import { createConnection, type Socket } from 'node:net';

/** Python's socket.timeout: nothing arrived within the socket's timeout. */
export class SocketTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`timed out (socket timeout ${timeoutMs / 1000} s)`);
    this.name = 'SocketTimeout';
  }
}

export class PythonSocket {
  /** Bytes received and not yet taken by recv. */
  #queue: Buffer[] = [];
  #eof = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    /** settimeout(): undefined blocks for ever, as a socket without a timeout does. */
    private readonly timeoutMs: number | undefined,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.#queue.push(chunk);
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#eof = true;
      this.#wake?.();
    });
    socket.on('error', (error) => {
      this.#error = error;
      this.#wake?.();
    });
  }

  /** socket.socket(AF_UNIX, SOCK_STREAM); settimeout(timeoutMs); connect(path). */
  static connect(path: string, timeoutMs?: number): Promise<PythonSocket> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new PythonSocket(socket, timeoutMs));
      });
    });
  }

  /** sendall(data): every byte, as one write, and no newline unless the data has one. */
  sendall(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  /**
   * recv(bufsize): waits until some bytes are there, then returns at most bufsize of what has
   * arrived; b"" once the peer closed and everything was taken; SocketTimeout if the socket has a
   * timeout and nothing came in that time.
   */
  async recv(bufsize: number): Promise<Buffer> {
    const deadline = this.timeoutMs === undefined ? undefined : Date.now() + this.timeoutMs;
    while (this.#queue.length === 0 && !this.#eof) {
      if (this.#error) throw this.#error;
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) throw new SocketTimeout(this.timeoutMs!);
      await new Promise<void>((resolve) => {
        const timer = left === undefined ? undefined : setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    const available = Buffer.concat(this.#queue);
    const taken = available.subarray(0, bufsize);
    this.#queue = taken.length < available.length ? [available.subarray(bufsize)] : [];
    return taken;
  }

  /** close(), as the `with socket…` block does when it ends. */
  close(): void {
    this.socket.destroy();
  }
}

/** `while True: chunk = sock.recv(bufsize); if not chunk: break`: everything up to the peer's close. */
export async function recvUntilEof(socket: PythonSocket, bufsize: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = await socket.recv(bufsize);
    if (chunk.length === 0) return Buffer.concat(chunks);
    chunks.push(chunk);
  }
}

/** json.dumps(value) with Python's defaults: ", " and ": " separators, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** pydantic's model.json(): compact, fields in declaration order, None written as null. */
export function pydanticJson(fields: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(fields);
}

/** json.loads(data.decode()): Python raises on invalid JSON or UTF-8; so does this. */
export function pythonLoads(data: Buffer): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as unknown;
}
