// The App the handlers run against: the host as last read from sysfs, and the durable ledger.
// The CPU topology is read at start and on SIGHUP; `online` again before every change (a read may
// use a value up to a second old), so CPUs that go offline are never handed out.
//
// A host that cannot be read whole does not stop the daemon (docs/architecture.md, degraded start): a
// broken `isolated` file or --cpu-pool makes the isolated pool hand out nothing, a general pool
// that is malformed, absent or overlapping makes that pool hand out nothing, and any other broken
// CPU file, or a --reserved-cpus that is malformed or unknown, makes every pool hand out nothing (a
// wrong topology would place CPUs wrongly; unknown housekeeping CPUs could be handed out). Listings,
// releases and hugepage calls keep working; SIGHUP tries again.
import { statSync } from 'node:fs';
import type { Logger } from 'winston';
import type { ChangeOrigin, HostView, Ledger, Plan, PoolName } from '../allocator/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { generalPoolProblem, hostView } from '../allocator/index.js';
import { CpuListError, CpuSet, parseCpuList } from '../cpuset/index.js';
import type { App } from '../rpc/index.js';
import type { LedgerStore } from '../state/index.js';
import { readHugepageCounters, readOnline, readPresent, readTopology, sysfsPaths, TopologyError } from '../topology/index.js';
import type { HugepageCounters, Topology } from '../topology/index.js';

export interface HostConfig {
  readonly sysfs: string;
  /** --cpu-pool: replaces the isolated list. */
  readonly cpuPool?: string;
  /** --general-pool: the ordinary CPU pool beside the isolated one. */
  readonly generalPool?: string;
  /** The general pool's setting could not be read: it exists, with no CPU, for this reason. */
  readonly generalPoolUnknown?: string;
  /** --reserved-cpus: housekeeping CPUs no pool hands out. */
  readonly reservedCpus?: string;
  /** The reserved CPUs' setting could not be read: every pool hands out nothing, for this reason. */
  readonly reservedCpusUnknown?: string;
}

/** A CPU's cache directory or a file in it (sysfsPaths.caches, cacheLevel, cacheSharedCpus). */
const CACHE_FILE = /\/cpu\d+\/cache(\/index\d+\/\w+)?$/;

/** What a read of the host found wrong, per pool: the reason each unavailable pool gives. */
export type Unavailable = Partial<Record<PoolName, string>>;

/** How old what a read sees of the host may be: `online` (a change reads it again first) … */
const READ_ONLINE_MAX_AGE_MS = 1000;
/** … and the hugepage counters (a change reads them again too). */
const READ_COUNTERS_MAX_AGE_MS = 100;

/** The general pool setting: a cpulist; "isolated" or empty means none (as the snap option). */
export function generalPoolSetting(text: string | undefined): CpuSet | undefined {
  const value = text?.trim();
  if (value === undefined || value === '' || value === 'isolated') return undefined;
  return parseCpuList(value);
}

interface HostRead {
  readonly topology: Topology;
  readonly general: CpuSet | undefined;
  readonly reserved: CpuSet;
  readonly unavailable: Unavailable;
}

export class Orchestrator implements App {
  private read: HostRead;
  private current: HostView;
  private onlineReadAt = 0;
  private counters: { readonly at: number; readonly value: readonly HugepageCounters[] } | undefined;

  constructor(
    private readonly source: HostConfig,
    private readonly store: LedgerStore,
    private readonly logger: Pick<Logger, 'error' | 'warn'>,
    private readonly clock: Clock = systemClock,
  ) {
    this.read = this.readHost();
    this.current = this.hostWith(this.read.topology.online);
    this.onlineReadAt = clock.now();
  }

  /** Reads the topology and the pools, logging at error why a pool hands out nothing. */
  private readHost(): HostRead {
    const { sysfs, cpuPool } = this.source;
    const unavailable: Unavailable = {};
    const pools: Record<'isolated' | 'every', string[]> = { isolated: [], every: [] };
    const caches: string[] = [];
    const isolatedSources = [sysfsPaths.isolated(sysfs), '--cpu-pool'];
    const onProblem = (problem: TopologyError) => {
      if (isolatedSources.includes(problem.source)) pools.isolated.push(problem.message);
      else if (problem.source.includes('/hugepages')) this.logger.warn(`hugepages of a node are not known: ${problem.message}`);
      // A wrong L3 grouping never hands out a wrong CPU: a CPU whose cache files are broken counts as having none.
      else if (CACHE_FILE.test(problem.source)) caches.push(problem.message);
      else pools.every.push(problem.message);
    };
    if (!isDirectory(sysfs)) pools.every.push(`the sysfs root ${sysfs} is not a directory`);
    const topology = readTopology(sysfs, { ...(cpuPool === undefined ? {} : { cpuPool }), onProblem });
    const reserved = this.reservedSetting(pools.every);
    if (caches.length > 0) this.logger.warn(`L3 cache domains are read without ${caches.length} CPU(s) whose cache files are broken, first: ${caches[0]}`);
    const broken = [...pools.every, ...pools.isolated];
    if (broken.length > 0) unavailable.isolated = broken.join('; ');
    if (pools.every.length > 0) unavailable.general = pools.every.join('; ');

    let general: CpuSet | undefined;
    try {
      general = generalPoolSetting(this.source.generalPool);
    } catch (error) {
      if (!(error instanceof CpuListError)) throw error;
      unavailable.general = `the general pool setting is not a cpulist: ${error.message}`;
      general = CpuSet.EMPTY;
    }
    if (this.source.generalPoolUnknown !== undefined) {
      unavailable.general = this.source.generalPoolUnknown;
      general = CpuSet.EMPTY;
    }
    if (general !== undefined && unavailable.general === undefined) {
      const problem = generalPoolProblem(general, { isolated: topology.pool, present: readPresentTolerant(sysfs) });
      if (problem !== undefined) unavailable.general = `the general pool ${general.toString()} is unusable: ${problem}`;
    }
    for (const [pool, reason] of Object.entries(unavailable)) {
      this.logger.error(`pool ${pool} hands out no CPU until this is fixed (then SIGHUP): ${reason}`);
    }
    return { topology, general, reserved, unavailable };
  }

  /** The housekeeping CPUs; when they are not known every pool must hand out nothing, so the reason goes to `every`. */
  private reservedSetting(every: string[]): CpuSet {
    const { reservedCpus, reservedCpusUnknown } = this.source;
    if (reservedCpusUnknown !== undefined) {
      every.push(reservedCpusUnknown);
      return CpuSet.EMPTY;
    }
    try {
      return parseCpuList(reservedCpus ?? '');
    } catch (error) {
      if (!(error instanceof CpuListError)) throw error;
      every.push(`the reserved CPUs setting (--reserved-cpus) is not a cpulist: ${error.message}`);
      return CpuSet.EMPTY;
    }
  }

  private hostWith(online: CpuSet): HostView {
    const { topology, general, reserved, unavailable } = this.read;
    return hostView(topology, { online, reserved, unavailable, ...(general === undefined ? {} : { general }) });
  }

  /** Reads the CPU topology and the pools again (SIGHUP). */
  reload(): HostView {
    this.read = this.readHost();
    this.current = this.hostWith(this.read.topology.online);
    this.onlineReadAt = this.clock.now();
    this.counters = undefined;
    return this.current;
  }

  /** Re-reads `online` when the last read is older than maxAgeMs; a new host only when it changed. */
  private refreshOnline(maxAgeMs: number): HostView {
    const now = this.clock.now();
    if (now - this.onlineReadAt < maxAgeMs) return this.current;
    let online: CpuSet;
    try {
      online = readOnline(this.source.sysfs) ?? this.read.topology.online;
    } catch (error) {
      if (!(error instanceof TopologyError)) throw error;
      // The file broke since the topology was read: keep what it said then, and say so.
      this.logger.error(`keeping the CPUs online as last read: ${error.message}`);
      online = this.current.online;
    }
    this.onlineReadAt = now;
    if (!online.equals(this.current.online)) this.current = this.hostWith(online);
    return this.current;
  }

  hostView(): HostView {
    return this.refreshOnline(READ_ONLINE_MAX_AGE_MS);
  }

  hugepageCounters(use: 'read' | 'change'): readonly HugepageCounters[] {
    const now = this.clock.now();
    const kept = this.counters;
    if (use === 'read' && kept !== undefined && now - kept.at < READ_COUNTERS_MAX_AGE_MS) return kept.value;
    const value = Object.freeze(readHugepageCounters(this.source.sysfs, this.read.topology.hugepageSizes));
    this.counters = { at: now, value };
    return value;
  }

  ledger(): Ledger {
    return this.store.view();
  }

  change<R>(plan: (ledger: Ledger) => Plan<R>, origin: ChangeOrigin): Promise<R> {
    this.refreshOnline(0);
    return this.store.update(plan, origin);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `present` is only there to refuse CPUs the host lacks: when it cannot be read, nothing is refused. */
function readPresentTolerant(sysfs: string): CpuSet | null {
  try {
    return readPresent(sysfs);
  } catch (error) {
    if (error instanceof TopologyError) return null;
    throw error;
  }
}
