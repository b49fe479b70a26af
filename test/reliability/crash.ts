// Crash consistency (SPEC section 8): `serve` in a child process, clients changing their services,
// SIGKILL at a random moment, a restart on the same state dir, and then the checks. Every change
// answered before the kill is in the file; an unanswered one is either wholly there or not at all;
// the file decodes and keeps every invariant; the dead daemon's lock does not block the restart;
// the restarted daemon serves what the file holds and no temp file is left in the state dir.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateResult } from '../../schema/index.js';
import type { Ledger } from '../../src/allocator/index.js';
import { EpaClient } from '../../src/client/index.js';
import { LOCK_FILE, STATE_FILE } from '../../src/state/index.js';
import { tempSysfs } from '../fixtures/host.js';
import { ChildDaemon, SpareDaemons, answers, serveArgs } from './child-daemon.js';
import { ledgerText, ledgerViolations, listingViolations, readLedger, strayFiles } from './ledger-checks.js';
import { seededRandom, type Random } from './random.js';
import { ServiceModel, WORKLOAD_HOST, WORKLOAD_POOL, emptyCounts, runClient, stateOf, type WorkloadCounts } from './workload.js';

export interface CrashOptions {
  readonly rounds: number;
  readonly clients: number;
  /** Traffic before each kill: a random number of ms in [min, max]. */
  readonly trafficMs: readonly [number, number];
  readonly seed: number;
  /** No new round starts after this many ms (the soak run's time bound). */
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
  /** ms from letting a warm child go to its socket answering. */
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
  const dir = await mkdtemp(join(tmpdir(), 'epa-crash-'));
  const sysfs = tempSysfs(WORKLOAD_HOST);
  const socket = join(dir, 'epa.sock');
  const stateDir = join(dir, 'state');
  const spares = new SpareDaemons(serveArgs({ socket, stateDir, sysfs: sysfs.path, extra: ['--log-level', 'warn'] }), 2);
  const models = Array.from({ length: options.clients }, (_, i) => new ServiceModel(`svc-${String(i).padStart(2, '0')}`));
  const began = Date.now();
  let daemon: ChildDaemon | undefined;
  try {
    daemon = await restart(spares, socket, report);
    await checkRestarted(stateDir, socket, undefined, report, 0);
    for (let round = 1; round <= options.rounds && report.violations.length === 0; round++) {
      if (options.budgetMs !== undefined && Date.now() - began > options.budgetMs) break;
      const problems = await trafficThenKill(daemon, socket, models, rng, options, report);
      report.violations.push(...problems.map((p) => `round ${round}: ${p}`));
      const onDisk = await checkAfterKill(stateDir, models, report, round);
      daemon = await restart(spares, socket, report);
      await checkRestarted(stateDir, socket, onDisk, report, round);
      report.rounds = round;
      options.onRound?.(report);
    }
    await stopCleanly(daemon, socket, stateDir, report);
    daemon = undefined;
  } finally {
    await daemon?.kill();
    await spares.close();
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  return report;
}

async function restart(spares: SpareDaemons, socket: string, report: CrashReport): Promise<ChildDaemon> {
  const daemon = spares.take();
  await daemon.go();
  const began = Date.now();
  await daemon.ready(socket);
  report.restartMs.push(Date.now() - began);
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
  // Each client draws from its own stream, so the interleaving does not change what it sends.
  const loops = models.map((model, i) =>
    runClient(clients[i]!, model, seededRandom(rng.int(0, 2 ** 32 - 1)), () => stopped, report.counts, problems),
  );
  await sleep(rng.int(options.trafficMs[0], options.trafficMs[1]));
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
async function checkRestarted(stateDir: string, socket: string, onDisk: Ledger | undefined, report: CrashReport, round: number): Promise<void> {
  const fail = (problem: string) => report.violations.push(`round ${round}, after the restart: ${problem}`);
  const stray = await strayFiles(stateDir);
  if (stray.length > 0) fail(`files left in the state dir: ${stray.join(', ')}`);
  const read = await readLedger(stateDir);
  if ('problem' in read) {
    fail(read.problem);
    return;
  }
  if (onDisk && ledgerText(read.ledger) !== ledgerText(onDisk)) fail('the restart changed the state file');
  const client = await EpaClient.connect(socket);
  try {
    const listed = validateResult('list_allocations', await client.call('list_allocations'));
    if (!listed.ok) fail(`list_allocations does not match its schema: ${JSON.stringify(listed.errors)}`);
    else listingViolations(listed.value, read.ledger).forEach(fail);
  } finally {
    client.close();
  }
}

/** SIGTERM: exit 0, the socket and the lock removed, the file still valid. */
async function stopCleanly(daemon: ChildDaemon, socket: string, stateDir: string, report: CrashReport): Promise<void> {
  const fail = (problem: string) => report.violations.push(`at the final stop: ${problem}`);
  daemon.signal('SIGTERM');
  const exit = await daemon.exited;
  if (exit.code !== 0) fail(`SIGTERM ended the daemon with ${JSON.stringify(exit)}: ${daemon.stderr}`);
  if (await answers(socket)) fail('the socket still answers');
  const left = (await readdir(stateDir)).filter((name) => name !== STATE_FILE);
  if (left.length > 0) fail(`files left in the state dir besides the state file: ${left.join(', ')}`);
  const final = await readLedger(stateDir);
  if ('problem' in final) fail(final.problem);
}
