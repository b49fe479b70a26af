// A small JSON-RPC client over the daemon's socket: one persistent connection, newline framing,
// replies matched to requests by id. The CLI, the integration tests and the benchmark use it.
import { createConnection, type Socket } from 'node:net';
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Connects to a Unix socket; rejects with the connect error (ENOENT, ECONNREFUSED, EAGAIN …). */
export function openUnixSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export class SocketClient {
  private buffer = '';
  private readonly rpc: JSONRPCClient;
  private closedError: Error | undefined;
  private lastId = 0;

  private constructor(private readonly socket: Socket) {
    this.rpc = new JSONRPCClient((request) => {
      if (this.closedError) return Promise.reject(this.closedError);
      this.socket.write(`${JSON.stringify(request)}\n`);
      return Promise.resolve();
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.fail(new Error('connection closed by the daemon')));
    socket.on('error', (error) => this.fail(error));
  }

  static async connect(path: string): Promise<SocketClient> {
    return new SocketClient(await openUnixSocket(path));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim() !== '') this.rpc.receive(JSON.parse(line) as JSONRPCResponse);
      newline = this.buffer.indexOf('\n');
    }
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    this.rpc.rejectAllPendingRequests(error.message);
  }

  /** Calls a method; a JSON-RPC error rejects with RpcError (code, message, data). */
  async call<R = unknown>(method: string, params: Record<string, unknown> = {}): Promise<R> {
    const response = await this.rpc.requestAdvanced({ jsonrpc: '2.0', id: ++this.lastId, method, params });
    // json-rpc-2.0 answers pending requests of a lost connection with a code-0 error: that is no
    // answer of the daemon, so it is thrown as the connection's own error.
    if (response.error && this.closedError) throw this.closedError;
    if (response.error) throw new RpcError(response.error.code, response.error.message, response.error.data);
    return response.result as R;
  }

  close(): void {
    this.socket.end();
  }
}
