// Hostile and careless clients against `serve` in a child process (docs/api.md): the
// daemon stays up, answers garbage with JSON-RPC errors only, keeps serving a normal client, and
// its memory stays bounded. `make soak` runs the flood at twenty times the size, and bounds the normal
// client's latency (a wall-clock figure, so not asserted here).
import { expect } from 'chai';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon, openFileLimit } from '../support/child-daemon.js';
import { DaemonDirs, oneShot } from '../support/daemon.js';
import { LineClient } from '../support/line-client.js';
import { crowd, nonReader, oversized } from './crowd.js';
import { emptyFloodReport, flood, releaseEverything } from './hostile.js';
import { seedFromEnv } from './random.js';

const MAX_BATCH = TRANSPORT_DEFAULTS.maxInFlightPerConnection;
// 1,000 idle connections cost this process and the daemon one descriptor each: with a low
// `ulimit -n` the test uses what fits (leaving room for the rest), and says so in its title.
const IDLE = Math.max(100, Math.min(1000, openFileLimit() - 300));
const SLOW = 50;
const MiB = 1024 * 1024;
/**
 * The daemon's own timers must not decide a test here: a slow connection or an idle one is not
 * closed however long a loaded machine takes (their timeouts have tests of their own, on a
 * ManualClock).
 */
const NO_TIMEOUT_MS = String(24 * 3600_000);

/** Sends text on a new connection and returns the first reply line, parsed. */
async function firstReply(path: string, text: string): Promise<unknown> {
  const client = await LineClient.connect(path);
  try {
    client.write(text);
    return JSON.parse(await client.line()) as unknown;
  } finally {
    client.close();
  }
}

describe('reliability: hostile clients against serve in a child process', function () {
  this.timeout(120_000);
  let dirs: DaemonDirs;
  let socket: string;
  let daemon: ChildDaemon;

  before(async () => {
    dirs = await DaemonDirs.create(SAMPLE);
    socket = dirs.socket;
    const limits = ['--max-connections', String(IDLE + SLOW + 64), '--partial-timeout-ms', NO_TIMEOUT_MS, '--idle-timeout-ms', NO_TIMEOUT_MS];
    daemon = ChildDaemon.start(dirs.serveArgs(limits));
    await daemon.ready();
  });

  after(async () => {
    await daemon?.kill();
    await dirs?.cleanup();
  });

  afterEach(() => {
    expect(daemon.exit, `the daemon is still running; its stderr:\n${daemon.stderr}`).to.equal(undefined);
    expect(daemon.stderr, 'no stack trace in the log').not.to.match(/^\s+at /m);
    expect(daemon.stderr, 'no error in the log').not.to.match(/^\S+ error /m);
  });

  // `make soak` floods with 100,000.
  it('answers 5,000 generated malformed messages, pipelined on 4 connections, with valid JSON-RPC replies only', async () => {
    const seed = seedFromEnv();
    const report = emptyFloodReport(seed);
    await flood(socket, 5_000, 4, seed, report);
    expect(report.violations, `fast-check seed ${seed} (replay with EPA_TEST_SEED=${seed})`).to.deep.equal([]);
    // Blank lines and notifications get no reply; nearly everything else gets one.
    expect(report.replies).to.be.above(4000);
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

  it(`serves a normal client while ${IDLE} connections sit idle and ${SLOW} trickle requests a byte at a time`, async () => {
    // Every call answered, every slow request answered, every idle connection still answering.
    // Latency is a figure for `make soak` to bound, not something to assert on a shared machine.
    const report = await crowd(socket, { idle: IDLE, slow: SLOW, calls: 150 });
    expect(report.violations).to.deep.equal([]);
    expect(report.latencies).to.have.length(150);
  });

  it('stops reading from a client that never reads its replies, keeps its own memory bounded and serves others', async () => {
    // 200,000 requests whose replies (about 1 kB each) would take 200 MB if the daemon kept reading;
    // memory is sampled after each of the normal client's 300 calls.
    const report = await nonReader(socket, 200_000, 300, () => daemon.rssBytes());
    expect(report.sentBytes).to.be.above(8 * MiB);
    expect(report.deliveredBytes, 'bytes the daemon and the kernel took in').to.be.below(4 * MiB);
    expect(report.rssGrowthBytes, 'growth of the daemon’s resident memory').to.be.below(64 * MiB);
    expect(report.latencies).to.have.length(300);
  });

  it(`answers a batch of more than ${MAX_BATCH} entries with one -32600, however much its replies would weigh`, async () => {
    const before = daemon.rssBytes();
    const discover = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' });
    // 1 MB of requests whose replies are 19 kB each: answered in full they would take 400 MB.
    const huge = (await firstReply(socket, `[${Array<string>(20_000).fill(discover).join(',')}]\n`)) as { error: { code: number } };
    expect(huge.error.code).to.equal(-32600);
    expect(daemon.rssBytes() - before).to.be.below(64 * MiB);
    // A batch at the cap is answered in full (with a lighter method: the cap, not the weight, is tested here).
    const topology = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_topology' });
    const full = (await firstReply(socket, `[${Array<string>(MAX_BATCH).fill(topology).join(',')}]\n`)) as unknown[];
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
