// Crash consistency of the state file: `serve` in a child process, clients changing their services,
// SIGKILL once it has answered a random number of changes (so the others are on their way), a
// restart on the same state dir, and then the checks. Every change
// answered before the kill is in the file; an unanswered one is either wholly there or not at all;
// the file decodes and keeps every invariant; the dead daemon's lock does not block the restart;
// the restarted daemon serves what the file holds and no temp file is left in the state dir.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateResult } from '../../schema/index.js';
import type { Ledger } from '../../src/allocator/index.js';
import { EpaClient } from '../../src/client/index.js';
import { LOCK_FILE, STATE_FILE } from '../../src/state/index.js';
import { ChildDaemon, SpareDaemons } from '../support/child-daemon.js';
import { DaemonDirs } from '../support/daemon.js';
import { LineClient } from '../support/line-client.js';
import { ledgerText, ledgerViolations, listingViolations, readLedger, strayFiles } from './ledger-checks.js';
import { seededRandom, type Random } from './random.js';
import { AnswerCount, ServiceModel, WORKLOAD_HOST, WORKLOAD_POOL, emptyCounts, runClient, stateOf, type WorkloadCounts } from './workload.js';

export interface CrashOptions {
  readonly rounds: number;
  readonly clients: number;
  /**
   * Traffic before each kill: the daemon is killed once it has answered a random number of
   * changes in [min, max] (counted, not timed, so the rounds do not depend on the machine's speed).
   */
  readonly changesBeforeKill: readonly [number, number];
  readonly seed: number;
  /** No new round starts after this many ms: the soak run's time bound, never set by `make test`. */
  readonly budgetMs?: number;
  /** Called after each round, e.g. to print progress. */
  readonly onRound?: (report: CrashReport) => void;
}

export interface CrashReport {
  readonly seed: number;
  rounds: number;
  readonly counts: WorkloadCounts;
  /** Service states checked against the model, one per service per round. */
  servicesChecked: number;
  /** Changes unanswered at a kill, and how many of those were found in the file. */
  inFlightAtKill: number;
  inFlightLanded: number;
  /** Kills after which a temp file was in the state dir (the restart must remove it). */
  tempFileAfterKill: number;
  /** ms from letting a warm child go to its saying it serves: a figure to report, not to assert. */
  readonly restartMs: number[];
  readonly violations: string[];
}

export async function runCrashRounds(options: CrashOptions): Promise<CrashReport> {
  const rng = seededRandom(options.seed);
  const report: CrashReport = {
    seed: options.seed,
    rounds: 0,
    counts: emptyCounts(),
    servicesChecked: 0,
    inFlightAtKill: 0,
    inFlightLanded: 0,
    tempFileAfterKill: 0,
    restartMs: [],
    violations: [],
  };
  const dirs = await DaemonDirs.create(WORKLOAD_HOST);
  // At info, the level ready() needs: the daemon says when it serves.
  const spares = new SpareDaemons(dirs.serveArgs(), 2);
  const models = Array.from({ length: options.clients }, (_, i) => new ServiceModel(`svc-${String(i).padStart(2, '0')}`));
  const began = Date.now();
  let daemon: ChildDaemon | undefined;
  try {
    daemon = await restart(spares, report);
    await checkRestarted(dirs, undefined, report, 0);
    for (let round = 1; round <= options.rounds && report.violations.length === 0; round++) {
      if (options.budgetMs !== undefined && Date.now() - began > options.budgetMs) break;
      const problems = await trafficThenKill(daemon, dirs.socket, models, rng, options, report);
      report.violations.push(...problems.map((p) => `round ${round}: ${p}`));
      const onDisk = await checkAfterKill(dirs.stateDir, models, report, round);
      daemon = await restart(spares, report);
      await checkRestarted(dirs, onDisk, report, round);
      report.rounds = round;
      options.onRound?.(report);
    }
    await stopCleanly(daemon, dirs, report);
    daemon = undefined;
  } finally {
    await daemon?.kill();
    await spares.close();
    await dirs.cleanup();
  }
  return report;
}

async function restart(spares: SpareDaemons, report: CrashReport): Promise<ChildDaemon> {
  const daemon = spares.take();
  await daemon.go();
  const began = performance.now();
  await daemon.ready();
  report.restartMs.push(performance.now() - began);
  return daemon;
}

async function trafficThenKill(
  daemon: ChildDaemon,
  socket: string,
  models: readonly ServiceModel[],
  rng: Random,
  options: CrashOptions,
  report: CrashReport,
): Promise<string[]> {
  const problems: string[] = [];
  const clients = await Promise.all(models.map(() => EpaClient.connect(socket)));
  let stopped = false;
  const answers = new AnswerCount();
  // Each client draws from its own stream, so the interleaving does not change what it sends.
  const loops = models.map((model, i) =>
    runClient(clients[i]!, model, seededRandom(rng.int(0, 2 ** 32 - 1)), () => stopped, report.counts, problems, () => answers.add()),
  );
  const [least, most] = options.changesBeforeKill;
  // The kill comes with the n-th answer, while the other clients' changes are on their way; if
  // every client stops first (a problem ends one), it comes then.
  await Promise.race([answers.after(rng.int(least, most)), Promise.all(loops)]);
  const exit = await daemon.kill();
  stopped = true;
  await Promise.all(loops);
  for (const client of clients) client.close();
  if (exit.signal !== 'SIGKILL') problems.push(`the daemon ended by itself before the kill: ${JSON.stringify(exit)} ${daemon.stderr}`);
  report.inFlightAtKill += models.filter((m) => m.inFlight !== undefined).length;
  return problems;
}

/** The file the dead daemon left: it decodes, keeps the invariants, and matches every model. */
async function checkAfterKill(stateDir: string, models: readonly ServiceModel[], report: CrashReport, round: number): Promise<Ledger | undefined> {
  const fail = (problem: string) => report.violations.push(`round ${round}, after the kill: ${problem}`);
  if ((await strayFiles(stateDir)).length > 0) report.tempFileAfterKill++;
  // The restart must take over this lock of a dead process.
  if (!existsSync(join(stateDir, LOCK_FILE))) fail('the killed daemon left no lock behind');
  const read = await readLedger(stateDir);
  if ('problem' in read) {
    fail(read.problem);
    return undefined;
  }
  ledgerViolations(read.ledger, WORKLOAD_POOL).forEach(fail);
  const known = new Set(models.map((m) => m.name));
  for (const [name] of read.ledger.entries()) if (!known.has(name)) fail(`unknown service ${name} in the file`);
  for (const model of models) {
    const verdict = model.reconcile(stateOf(read.ledger.get(model.name)));
    report.servicesChecked++;
    if (verdict.problem) fail(verdict.problem);
    if (verdict.landed) report.inFlightLanded++;
  }
  return read.ledger;
}

/** After a restart: only the state file and the new lock are left, and the daemon serves the file as the kill left it. */
async function checkRestarted(dirs: DaemonDirs, onDisk: Ledger | undefined, report: CrashReport, round: number): Promise<void> {
  const fail = (problem: string) => report.violations.push(`round ${round}, after the restart: ${problem}`);
  const stray = await strayFiles(dirs.stateDir);
  if (stray.length > 0) fail(`files left in the state dir: ${stray.join(', ')}`);
  const read = await readLedger(dirs.stateDir);
  if ('problem' in read) {
    fail(read.problem);
    return;
  }
  if (onDisk && ledgerText(read.ledger) !== ledgerText(onDisk)) fail('the restart changed the state file');
  const client = await EpaClient.connect(dirs.socket);
  try {
    const listed = validateResult('list_allocations', await client.call('list_allocations'));
    if (!listed.ok) fail(`list_allocations does not match its schema: ${JSON.stringify(listed.errors)}`);
    else listingViolations(listed.value, read.ledger).forEach(fail);
  } finally {
    client.close();
  }
}

/** Whether something accepts a connection on the socket path now. */
async function answers(socket: string): Promise<boolean> {
  return LineClient.connect(socket).then(
    (client) => {
      client.close();
      return true;
    },
    () => false,
  );
}

/** SIGTERM: exit 0, the socket and the lock removed, the file still valid. */
async function stopCleanly(daemon: ChildDaemon, dirs: DaemonDirs, report: CrashReport): Promise<void> {
  const fail = (problem: string) => report.violations.push(`at the final stop: ${problem}`);
  daemon.signal('SIGTERM');
  const { code, signal } = await daemon.exited;
  if (code !== 0) fail(`SIGTERM ended the daemon with ${JSON.stringify({ code, signal })}: ${daemon.stderr}`);
  if (await answers(dirs.socket)) fail('the socket still answers');
  if (existsSync(dirs.socket)) fail('the socket file is left behind');
  const left = (await readdir(dirs.stateDir)).filter((name) => name !== STATE_FILE);
  if (left.length > 0) fail(`files left in the state dir besides the state file: ${left.join(', ')}`);
  const final = await readLedger(dirs.stateDir);
  if ('problem' in final) fail(final.problem);
}
