// `make soak`: the crash and hostile-input scenarios of test/reliability at a larger scale,
// bounded in time (about 10 minutes at most). Prints a summary; exits 1 on any violation.
// EPA_TEST_SEED replays a run (each phase prints the seed it used).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE } from '../fixtures/hosts.js';
import { tempSysfs } from '../fixtures/host.js';
import { ChildDaemon, openFileLimit, serveArgs } from '../reliability/child-daemon.js';
import { runCrashRounds, type CrashReport } from '../reliability/crash.js';
import { crowd, nonReader, oversized, percentile } from '../reliability/crowd.js';
import { emptyFloodReport, flood } from '../reliability/hostile.js';
import { seedFromEnv } from '../reliability/random.js';

const CRASH_ROUNDS = 200;
const CRASH_BUDGET_MS = 6 * 60_000;
const HOSTILE_MESSAGES = 100_000;
const HOSTILE_CHUNK = 10_000;
const MiB = 1024 * 1024;

const violations: string[] = [];
const print = (text: string) => process.stdout.write(`${text}\n`);
const ms = (values: readonly number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${percentile(values, 100).toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

function check(ok: boolean, problem: string): void {
  if (!ok) violations.push(problem);
}

async function crashPhase(): Promise<void> {
  const seed = seedFromEnv();
  print(`crash: ${CRASH_ROUNDS} SIGKILL rounds, 16 clients, 100-300 ms of traffic each (seed ${seed})`);
  const report: CrashReport = await runCrashRounds({
    rounds: CRASH_ROUNDS,
    clients: 16,
    trafficMs: [100, 300],
    seed,
    budgetMs: CRASH_BUDGET_MS,
    onRound: (r) => {
      if (r.rounds % 20 === 0) print(`  round ${r.rounds}: ${r.counts.acked} changes answered so far`);
    },
  });
  print(`  rounds: ${report.rounds}${report.rounds < CRASH_ROUNDS ? ` (time budget reached)` : ''}`);
  print(`  changes answered: ${report.counts.acked}, refused: ${report.counts.refused}, write failures: ${report.counts.writeFailed}`);
  print(`  service states checked against the model: ${report.servicesChecked}`);
  print(`  changes unanswered at a kill: ${report.inFlightAtKill}, of which found in the file: ${report.inFlightLanded}`);
  print(`  kills that left a temp file (removed at restart): ${report.tempFileAfterKill}`);
  print(`  restart, from go to answering: ${ms(report.restartMs)}`);
  violations.push(...report.violations.map((v) => `crash (seed ${seed}): ${v}`));
  check(report.counts.writeFailed === 0, 'crash: STATE_WRITE_FAILED answered on a healthy disk');
}

async function hostilePhase(): Promise<void> {
  const seed = seedFromEnv();
  const idle = Math.max(100, Math.min(1000, openFileLimit() - 400));
  const slow = 100;
  const dir = await mkdtemp(join(tmpdir(), 'epa-soak-'));
  const sysfs = tempSysfs(SAMPLE);
  const socket = join(dir, 'epa.sock');
  const extra = ['--max-connections', String(idle + slow + 64), '--log-level', 'warn'];
  const daemon = ChildDaemon.start(serveArgs({ socket, stateDir: join(dir, 'state'), sysfs: sysfs.path, extra }));
  try {
    await daemon.ready(socket);
    print(`hostile: ${HOSTILE_MESSAGES} generated messages on 8 connections (seed ${seed})`);
    const report = emptyFloodReport(seed);
    let afterFirst = 0;
    for (let sent = 0; sent < HOSTILE_MESSAGES; sent += HOSTILE_CHUNK) {
      await flood(socket, HOSTILE_CHUNK, 8, (seed + sent) >>> 0, report, 300_000);
      if (sent === 0) afterFirst = daemon.rssBytes();
    }
    const rssAfter = daemon.rssBytes();
    print(`  messages: ${report.messages} (${mib(report.bytes)}), replies: ${report.replies}, in ${report.ms.reduce((a, b) => a + b, 0)} ms`);
    print(`  kinds: ${Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    print(`  daemon memory after the first ${HOSTILE_CHUNK}: ${mib(afterFirst)}, after all: ${mib(rssAfter)}`);
    violations.push(...report.violations.map((v) => `hostile (seed ${seed}): ${v}`));
    check(rssAfter - afterFirst < 96 * MiB, `hostile: the daemon grew by ${mib(rssAfter - afterFirst)} over the flood`);

    print(`crowd: ${idle} idle connections, ${slow} trickling a request a byte every 10 ms, a normal client making 500 calls`);
    const crowded = await crowd(socket, { idle, slow, trickleMs: 10, calls: 500 });
    print(`  normal client latency: ${ms(crowded.latencies)}`);
    violations.push(...crowded.violations.map((v) => `crowd: ${v}`));
    check(percentile(crowded.latencies, 100) < 1000, 'crowd: a normal call took 1 s or more');

    print('non-reader: 1,000,000 pipelined requests, no reply read');
    const silent = await nonReader(socket, 1_000_000, 3000, () => daemon.rssBytes());
    print(`  sent ${mib(silent.sentBytes)}, taken in by the daemon and the kernel ${mib(silent.deliveredBytes)}, daemon memory growth ${mib(silent.rssGrowthBytes)}`);
    print(`  normal client latency meanwhile: ${ms(silent.latencies)}`);
    check(silent.deliveredBytes < 4 * MiB, 'non-reader: the daemon kept reading from a client that does not read');
    check(silent.rssGrowthBytes < 64 * MiB, `non-reader: the daemon grew by ${mib(silent.rssGrowthBytes)}`);
    check(percentile(silent.latencies, 100) < 1000, 'non-reader: a normal call took 1 s or more');

    const big = await oversized(socket, 8 * MiB, 256 * MiB);
    print(`oversized: 8 MiB line answered ${big.reply}; endless message cut after ${mib(big.streamedBeforeClose)}`);
    check(big.reply.includes('-32600') && big.closedAfterReply, 'oversized: no -32600 and close');
    check(big.streamedBeforeClose < 4 * MiB, 'oversized: an endless message was buffered');

    check(daemon.exit === undefined, `hostile: the daemon died: ${daemon.stderr}`);
    check(!/^\s+at /m.test(daemon.stderr), 'hostile: a stack trace in the log');
    check(!/^\S+ error /m.test(daemon.stderr), 'hostile: an error in the log');
  } finally {
    await daemon.kill();
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

const began = Date.now();
for (const phase of [crashPhase, hostilePhase]) {
  try {
    await phase();
  } catch (error) {
    violations.push(`${phase.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
print(`soak finished in ${((Date.now() - began) / 1000).toFixed(0)} s: ${violations.length} violation(s)`);
for (const v of violations) print(`  VIOLATION ${v}`);
process.exitCode = violations.length > 0 ? 1 : 0;
