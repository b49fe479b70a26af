// A burst of clients connecting while the daemon is busy waits in the listen backlog rather than
// failing: the daemon is stopped (SIGSTOP) while 800 clients connect, more than Node's default
// backlog of 511, and every one of them is served once it runs again.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { tempSysfs, type TempSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon, openFileLimit, serveArgs } from './child-daemon.js';
import { openSocket, replies } from './crowd.js';

const BURST = Math.min(800, openFileLimit() - 200);

describe('reliability: a burst of connections while the daemon is busy', function () {
  this.timeout(60_000);
  let dir: string;
  let sysfs: TempSysfs;
  let daemon: ChildDaemon;
  let sockets: Socket[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-backlog-'));
    sysfs = tempSysfs(SAMPLE);
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    daemon.signal('SIGCONT');
    await daemon.kill();
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it(`queues ${BURST} connections made while the daemon cannot accept, and serves them all`, async () => {
    const socket = join(dir, 'epa.sock');
    daemon = ChildDaemon.start(serveArgs({ socket, stateDir: join(dir, 'state'), sysfs: sysfs.path, extra: ['--log-level', 'warn'] }));
    await daemon.ready(socket);
    daemon.signal('SIGSTOP');
    try {
      sockets = await Promise.all(Array.from({ length: BURST }, () => openSocket(socket)));
    } finally {
      daemon.signal('SIGCONT');
    }
    const answers = await Promise.all(
      sockets.map((s, i) => {
        const reader = replies(s);
        s.write(`${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'get_topology' })}\n`);
        return reader.next(30_000);
      }),
    );
    expect(answers.map((text) => (JSON.parse(text) as { id: number }).id)).to.deep.equal(sockets.map((_, i) => i));
  });
});
