// The socket client the CLI, tests and bench share: a lost connection is not a daemon answer.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpaError, EpaClient } from '../../src/client/index.js';

describe('EpaClient', () => {
  let dir: string;
  let server: Server;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'epa-client-'));
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a pending call with the connection error, not an EpaError, when the peer hangs up', async () => {
    const path = join(dir, 'peer.sock');
    server = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = await EpaClient.connect(path);
    const error = await client.call('list_allocations').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(Error);
    expect(error).not.to.be.instanceOf(EpaError);
    expect((error as Error).message).to.match(/connection closed/);
  });

  it('rejects with EpaError carrying code, message and data when the peer answers an error', async () => {
    const path = join(dir, 'peer.sock');
    server = createServer((socket) =>
      socket.on('data', (chunk) => {
        const { id } = JSON.parse(chunk.toString()) as { id: number };
        socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32001, message: 'No CPUs available', data: { reason: 'NO_ISOLATED_CPUS' } } })}\n`);
      }),
    );
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = await EpaClient.connect(path);
    const error = (await client.call('allocate_cores').catch((e: unknown) => e)) as EpaError;
    client.close();
    expect(error).to.be.instanceOf(EpaError);
    expect([error.code, error.message, error.data]).to.deep.equal([-32001, 'No CPUs available', { reason: 'NO_ISOLATED_CPUS' }]);
  });
});
