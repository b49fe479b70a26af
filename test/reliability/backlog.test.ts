// A burst of clients connecting while the daemon is busy waits in the listen backlog rather than
// failing: the daemon is stopped (SIGSTOP) while 800 clients connect, more than Node's default
// backlog of 511, and every one of them is served once it runs again.
import { expect } from 'chai';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon, openFileLimit } from '../support/child-daemon.js';
import { DaemonDirs } from '../support/daemon.js';
import { LineClient } from '../support/line-client.js';

const BURST = Math.min(800, openFileLimit() - 200);

describe('reliability: a burst of connections while the daemon is busy', function () {
  this.timeout(60_000);
  let dirs: DaemonDirs;
  let daemon: ChildDaemon | undefined;
  let clients: LineClient[] = [];

  before(async () => {
    dirs = await DaemonDirs.create(SAMPLE);
  });

  after(async () => {
    for (const client of clients) client.close();
    daemon?.signal('SIGCONT');
    await daemon?.kill();
    await dirs.cleanup();
  });

  it(`queues ${BURST} connections made while the daemon cannot accept, and serves them all`, async () => {
    daemon = ChildDaemon.start(dirs.serveArgs());
    await daemon.ready();
    daemon.signal('SIGSTOP');
    try {
      clients = await Promise.all(Array.from({ length: BURST }, () => LineClient.connect(dirs.socket)));
    } finally {
      daemon.signal('SIGCONT');
    }
    const answers = await Promise.all(clients.map((client, i) => client.roundTrip({ jsonrpc: '2.0', id: i, method: 'get_topology' })));
    expect(answers.map((reply) => (reply as { id: number }).id)).to.deep.equal(clients.map((_, i) => i));
  });
});
