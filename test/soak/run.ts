// `make soak`: the crash and hostile-input scenarios of test/reliability at a larger scale,
// bounded in time (about 10 minutes at most). Prints a summary; exits 1 on any violation.
// EPA_TEST_SEED replays a run (each phase prints the seed it used). Wall-clock bounds belong here
// (and in `make bench`), not in `make test`: the normal client's latency beside hostile clients,
// and a time limit per phase, since the clients of test/reliability wait without deadlines.
import { readFileSync, readdirSync } from 'node:fs';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon, openFileLimit } from '../support/child-daemon.js';
import { DaemonDirs } from '../support/daemon.js';
import { runCrashRounds, type CrashReport } from '../reliability/crash.js';
import { crowd, nonReader, oversized, percentile } from '../reliability/crowd.js';
import { emptyFloodReport, flood, releaseEverything } from '../reliability/hostile.js';
import { seedFromEnv } from '../reliability/random.js';

const CRASH_ROUNDS = 200;
const CRASH_BUDGET_MS = 6 * 60_000;
/** The slowest call a normal client may see beside hostile ones. */
const LATENCY_BOUND_MS = 1000;
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
  print(`crash: ${CRASH_ROUNDS} SIGKILL rounds, 16 clients, a kill after 10-200 answered changes each (seed ${seed})`);
  const report: CrashReport = await runCrashRounds({
    rounds: CRASH_ROUNDS,
    clients: 16,
    changesBeforeKill: [10, 200],
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
  print(`  restart, from go to serving: ${ms(report.restartMs)}`);
  violations.push(...report.violations.map((v) => `crash (seed ${seed}): ${v}`));
  check(report.counts.writeFailed === 0, 'crash: STATE_WRITE_FAILED answered on a healthy disk');
}

async function hostilePhase(): Promise<void> {
  const seed = seedFromEnv();
  const idle = Math.max(100, Math.min(1000, openFileLimit() - 400));
  const slow = 100;
  const dirs = await DaemonDirs.create(SAMPLE);
  const extra = ['--max-connections', String(idle + slow + 64)];
  // At info, the level ready() needs; the checks below look for error lines only.
  const daemon = ChildDaemon.start(dirs.serveArgs(extra));
  const socket = dirs.socket;
  try {
    await daemon.ready();
    print(`hostile: ${HOSTILE_MESSAGES} generated messages on 8 connections (seed ${seed})`);
    const report = emptyFloodReport(seed);
    let afterFirst = 0;
    for (let sent = 0; sent < HOSTILE_MESSAGES; sent += HOSTILE_CHUNK) {
      await flood(socket, HOSTILE_CHUNK, 8, (seed + sent) >>> 0, report);
      if (sent === 0) afterFirst = daemon.rssBytes();
    }
    const rssAfter = daemon.rssBytes();
    print(`  messages: ${report.messages} (${mib(report.bytes)}), replies: ${report.replies}, in ${report.ms.reduce((a, b) => a + b, 0)} ms`);
    print(`  kinds: ${Object.entries(report.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    print(`  daemon memory after the first ${HOSTILE_CHUNK}: ${mib(afterFirst)}, after all: ${mib(rssAfter)}`);
    violations.push(...report.violations.map((v) => `hostile (seed ${seed}): ${v}`));
    check(rssAfter - afterFirst < 96 * MiB, `hostile: the daemon grew by ${mib(rssAfter - afterFirst)} over the flood`);
    // The normal client below allocates: the flood's valid allocations must not have used up the pool.
    await releaseEverything(socket);

    print(`crowd: ${idle} idle connections, ${slow} trickling a request a byte per normal call, a normal client making 500 calls`);
    const crowded = await crowd(socket, { idle, slow, calls: 500 });
    print(`  normal client latency: ${ms(crowded.latencies)}`);
    violations.push(...crowded.violations.map((v) => `crowd: ${v}`));
    check(crowded.latencies.length === 500, `crowd: ${crowded.latencies.length} of 500 normal calls answered`);
    check(percentile(crowded.latencies, 100) < LATENCY_BOUND_MS, `crowd: a normal call took ${LATENCY_BOUND_MS} ms or more`);

    print('non-reader: 1,000,000 pipelined requests, no reply read, beside a normal client making 2,000 calls');
    const silent = await nonReader(socket, 1_000_000, 2000, () => daemon.rssBytes());
    print(`  sent ${mib(silent.sentBytes)}, taken in by the daemon and the kernel ${mib(silent.deliveredBytes)}, daemon memory growth ${mib(silent.rssGrowthBytes)}`);
    print(`  normal client latency meanwhile: ${ms(silent.latencies)}`);
    check(silent.deliveredBytes < 4 * MiB, 'non-reader: the daemon kept reading from a client that does not read');
    check(silent.rssGrowthBytes < 64 * MiB, `non-reader: the daemon grew by ${mib(silent.rssGrowthBytes)}`);
    check(percentile(silent.latencies, 100) < LATENCY_BOUND_MS, `non-reader: a normal call took ${LATENCY_BOUND_MS} ms or more`);

    const big = await oversized(socket, 8 * MiB, 256 * MiB);
    print(`oversized: 8 MiB line answered ${big.reply}; endless message cut after ${mib(big.streamedBeforeClose)}`);
    check(big.reply.includes('-32600') && big.closedAfterReply, 'oversized: no -32600 and close');
    check(big.streamedBeforeClose < 4 * MiB, 'oversized: an endless message was buffered');

    check(daemon.exit === undefined, `hostile: the daemon died: ${daemon.stderr}`);
    check(!/^\s+at /m.test(daemon.stderr), 'hostile: a stack trace in the log');
    check(!/^\S+ error /m.test(daemon.stderr), 'hostile: an error in the log');
  } finally {
    await daemon.kill();
    await dirs.cleanup();
  }
}

/** SIGKILL to every child process of this one (daemons and warm spares a hung phase left running). */
function killChildren(): void {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Runs a phase; one still running after limitMs is a violation, and ends the run. */
async function timed(phase: () => Promise<void>, limitMs: number): Promise<'done' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), limitMs)));
  try {
    return await Promise.race([phase().then(() => 'done' as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

// Each phase's time limit: the clients of test/reliability wait without deadlines of their own.
const PHASES: readonly [() => Promise<void>, number][] = [
  [crashPhase, CRASH_BUDGET_MS + 2 * 60_000],
  [hostilePhase, 6 * 60_000],
];
const began = Date.now();
let hung = false;
for (const [phase, limitMs] of PHASES) {
  try {
    hung = (await timed(phase, limitMs)) === 'hung';
    if (hung) violations.push(`${phase.name} still running after ${limitMs / 1000} s`);
  } catch (error) {
    violations.push(`${phase.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  if (hung) break;
}
print(`soak finished in ${((Date.now() - began) / 1000).toFixed(0)} s: ${violations.length} violation(s)`);
for (const v of violations) print(`  VIOLATION ${v}`);
process.exitCode = violations.length > 0 ? 1 : 0;
if (hung) {
  // The hung phase still holds sockets and children: end them and this run.
  killChildren();
  process.exit();
}
