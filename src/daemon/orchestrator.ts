// The App the handlers run against: the host as last read from sysfs, and the durable ledger.
// The CPU topology is read at start and on SIGHUP; `online` again before every change (a read may
// use a value up to a second old), so CPUs that go offline are never handed out.
import type { Host, Ledger, Plan } from '../allocator/index.js';
import { hostOf } from '../allocator/index.js';
import { parseCpuList, type CpuSet } from '../cpuset/index.js';
import type { App } from '../rpc/index.js';
import type { LedgerStore } from '../state/index.js';
import { readHugepageCounters, readOnline, readTopology } from '../topology/index.js';
import type { HugepagePool, Topology } from '../topology/index.js';

export interface HostSource {
  readonly sysfs: string;
  /** --cpu-pool: replaces the isolated list. */
  readonly cpuPool?: string;
  /** --general-pool: the ordinary CPU pool beside the isolated one. */
  readonly generalPool?: string;
}

/** The general pool overlaps the default pool: the daemon refuses to start (or to reload). */
export class PoolOverlapError extends Error {
  constructor(readonly cpus: CpuSet) {
    super(`--general-pool overlaps the isolated pool on CPUs ${cpus.toString()}`);
    this.name = 'PoolOverlapError';
  }
}

const READ_ONLINE_MAX_AGE_MS = 1000;

function generalPoolOf(text: string): CpuSet {
  try {
    return parseCpuList(text);
  } catch (error) {
    throw new Error(`--general-pool: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export class Orchestrator implements App {
  private topology: Topology;
  private current: Host;
  private onlineReadAt = 0;
  private pools: readonly HugepagePool[] | undefined;
  private readonly general: CpuSet | undefined;

  constructor(
    private readonly source: HostSource,
    private readonly store: LedgerStore,
  ) {
    this.general = source.generalPool === undefined ? undefined : generalPoolOf(source.generalPool);
    this.topology = this.readChecked();
    this.current = this.hostWith(this.topology.online);
    this.onlineReadAt = Date.now();
  }

  private readChecked(): Topology {
    const topology = readTopology(this.source.sysfs, this.source.cpuPool === undefined ? {} : { cpuPool: this.source.cpuPool });
    if (this.general && this.general.intersects(topology.pool)) throw new PoolOverlapError(this.general.intersect(topology.pool));
    return topology;
  }

  private hostWith(online: CpuSet): Host {
    return hostOf(this.topology, { online, ...(this.general ? { general: this.general } : {}) });
  }

  /** Reads the CPU topology again (SIGHUP). On a read error the previous host stays. */
  reload(): Host {
    this.topology = this.readChecked();
    this.current = this.hostWith(this.topology.online);
    this.onlineReadAt = Date.now();
    return this.current;
  }

  /** Re-reads `online` when the last read is older than maxAgeMs; a new host only when it changed. */
  private refreshOnline(maxAgeMs: number): Host {
    const now = Date.now();
    if (now - this.onlineReadAt < maxAgeMs) return this.current;
    const online = readOnline(this.source.sysfs) ?? this.topology.online;
    this.onlineReadAt = now;
    if (!online.equals(this.current.online)) this.current = this.hostWith(online);
    return this.current;
  }

  host(): Host {
    return this.refreshOnline(READ_ONLINE_MAX_AGE_MS);
  }

  /**
   * Fresh counters for each call; calls handled in the same event-loop turn (a pipelined burst)
   * share one read, which is as fresh for each of them.
   */
  hugepagePools(): readonly HugepagePool[] {
    if (this.pools === undefined) {
      this.pools = readHugepageCounters(this.source.sysfs, this.topology.hugepageSizes);
      setImmediate(() => {
        this.pools = undefined;
      });
    }
    return this.pools;
  }

  ledger(): Ledger {
    return this.store.view();
  }

  change<R>(plan: (ledger: Ledger) => Plan<R>): Promise<R> {
    this.refreshOnline(0);
    return this.store.update(plan);
  }
}
