// The limit the daemon is compared with: a bare newline-JSON server on a Unix socket that parses
// each request for its id and answers `result: null`, one write per reply as the daemon does.
// Whatever the daemon does beyond this (validation, dispatch, the allocator, bigger replies,
// fsync) shows up as the gap between the two.
import { createServer, type Socket } from 'node:net';

export interface EchoServer {
  close(): Promise<void>;
}

function serve(socket: Socket): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let start = 0;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n', start)) {
      const { id } = JSON.parse(buffered.slice(start, end)) as { id: unknown };
      socket.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":null}\n`);
      start = end + 1;
    }
    buffered = buffered.slice(start);
  });
  socket.on('error', () => socket.destroy());
}

export async function startEchoServer(socketPath: string): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
