// Hostile and careless clients against `serve` in a child process (SPEC sections 3 and 6): the
// daemon stays up, answers garbage with JSON-RPC errors only, keeps serving a normal client
// promptly, and its memory stays bounded. `make soak` runs the flood at ten times the size.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpaClient } from '../../src/client/index.js';
import { MAX_BATCH } from '../../src/rpc/dispatcher.js';
import { tempSysfs, type TempSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { oneShot } from '../integration/harness.js';
import { ChildDaemon, openFileLimit, serveArgs } from './child-daemon.js';
import { crowd, firstReply, nonReader, oversized, percentile } from './crowd.js';
import { emptyFloodReport, flood } from './hostile.js';
import { seedFromEnv } from './random.js';

// 1,000 idle connections cost this process and the daemon one descriptor each: with a low
// `ulimit -n` the test uses what fits (leaving room for the rest), and says so in its title.
const IDLE = Math.max(100, Math.min(1000, openFileLimit() - 300));
const SLOW = 50;
const MiB = 1024 * 1024;

/** Some generated messages are valid allocations: the tests after the flood start from an empty ledger. */
async function releaseEverything(path: string): Promise<void> {
  const client = await EpaClient.connect(path);
  try {
    const list = await client.list_allocations();
    for (const { service_name } of list.allocations) await client.release_service({ service_name });
  } finally {
    client.close();
  }
}

describe('reliability: hostile clients against serve in a child process', function () {
  this.timeout(120_000);
  let dir: string;
  let sysfs: TempSysfs;
  let socket: string;
  let daemon: ChildDaemon;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-hostile-'));
    sysfs = tempSysfs(SAMPLE);
    socket = join(dir, 'epa.sock');
    const extra = ['--max-connections', String(IDLE + SLOW + 64), '--log-level', 'warn'];
    daemon = ChildDaemon.start(serveArgs({ socket, stateDir: join(dir, 'state'), sysfs: sysfs.path, extra }));
    await daemon.ready(socket);
  });

  after(async () => {
    await daemon.kill();
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(daemon.exit, `the daemon is still running; its stderr:\n${daemon.stderr}`).to.equal(undefined);
    expect(daemon.stderr, 'no stack trace in the log').not.to.match(/^\s+at /m);
    expect(daemon.stderr, 'no error in the log').not.to.match(/^\S+ error /m);
  });

  it('answers 10,000 generated malformed messages, pipelined on 4 connections, with valid JSON-RPC replies only', async () => {
    const seed = seedFromEnv();
    const report = emptyFloodReport(seed);
    await flood(socket, 10_000, 4, seed, report);
    expect(report.violations, `fast-check seed ${seed} (replay with EPA_TEST_SEED=${seed})`).to.deep.equal([]);
    // Blank lines and notifications get no reply; nearly everything else gets one.
    expect(report.replies).to.be.above(8000);
    expect(Object.keys(report.kinds)).to.have.length.above(10);
    await releaseEverything(socket);
  });

  it('answers one-shot messages whose action is not a string, an object with a toString member included', async () => {
    for (const action of [{ toString: 'x' }, [{ toString: 1 }], { valueOf: {} }, 42, null, true]) {
      const reply = await oneShot(socket, { version: '1.0', action, service_name: 'vm' });
      expect(reply, JSON.stringify(action)).to.have.property('version', '1.0');
      expect(reply.error, JSON.stringify(action)).to.match(/^Unknown action: /);
    }
  });

  it(`serves a normal client within 1 s while ${IDLE} connections sit idle and ${SLOW} trickle requests a byte at a time`, async () => {
    const report = await crowd(socket, { idle: IDLE, slow: SLOW, trickleMs: 10, calls: 150 });
    expect(report.violations).to.deep.equal([]);
    expect(percentile(report.latencies, 100), `p50 ${percentile(report.latencies, 50).toFixed(1)} ms`).to.be.below(1000);
  });

  it('stops reading from a client that never reads its replies, keeps its own memory bounded and serves others', async () => {
    // 200,000 requests whose replies (about 1 kB each) would take 200 MB if the daemon kept reading.
    const report = await nonReader(socket, 200_000, 1500, () => daemon.rssBytes());
    expect(report.sentBytes).to.be.above(8 * MiB);
    expect(report.deliveredBytes, 'bytes the daemon and the kernel took in').to.be.below(4 * MiB);
    expect(report.rssGrowthBytes, 'growth of the daemon’s resident memory').to.be.below(64 * MiB);
    expect(percentile(report.latencies, 100)).to.be.below(1000);
  });

  it(`answers a batch of more than ${MAX_BATCH} entries with one -32600, however much its replies would weigh`, async () => {
    const before = daemon.rssBytes();
    const discover = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' });
    // 1 MB of requests whose replies are 19 kB each: answered in full they would take 400 MB.
    const huge = JSON.parse(await firstReply(socket, `[${Array<string>(20_000).fill(discover).join(',')}]\n`)) as { error: { code: number } };
    expect(huge.error.code).to.equal(-32600);
    expect(daemon.rssBytes() - before).to.be.below(64 * MiB);
    const full = JSON.parse(await firstReply(socket, `[${Array<string>(MAX_BATCH).fill(discover).join(',')}]\n`)) as unknown[];
    expect(full).to.have.length(MAX_BATCH);
  });

  it('answers a line over the 1 MiB limit with -32600 and closes it; drops an endless message without buffering it', async () => {
    const before = daemon.rssBytes();
    const report = await oversized(socket, 2 * MiB, 64 * MiB);
    expect(JSON.parse(report.reply)).to.deep.include({ jsonrpc: '2.0', id: null });
    expect((JSON.parse(report.reply) as { error: { code: number } }).error.code).to.equal(-32600);
    expect(report.closedAfterReply).to.equal(true);
    expect(report.streamedBeforeClose, 'bytes of an endless message written before the daemon hung up').to.be.below(4 * MiB);
    expect(daemon.rssBytes() - before).to.be.below(32 * MiB);
  });
});
