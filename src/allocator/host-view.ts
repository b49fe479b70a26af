// What the allocator needs to know of the host for one request: the topology snapshot, the CPUs
// online now, and per named pool the CPUs that may be handed out (pool ∩ online).
import { DEFAULT_POOL, DomainErrors } from '../../schema/index.js';
import { CpuSet } from '../cpuset/index.js';
import type { Topology } from '../topology/index.js';
import type { Ledger, PoolName, PreemptionPolicy, ServiceRecord, ThreadPolicy } from './ledger.js';
import { EMPTY_RECORD } from './ledger.js';

export interface Pool {
  readonly name: PoolName;
  /** "isolated" for the kernel's isolated list; "configured" for --cpu-pool and --general-pool. */
  readonly source: 'isolated' | 'configured';
  /** The pool as configured, offline CPUs included. */
  readonly configured: CpuSet;
  /** configured ∩ online − reserved: the CPUs that may be handed out; none while the pool is unavailable. */
  readonly eligible: CpuSet;
  /** Why the pool hands out nothing (a degraded start: a broken sysfs file, a bad pool); null when usable. */
  readonly unavailable: string | null;
}

export interface HostView {
  readonly topology: Topology;
  /** The CPUs online now (re-read before every change; the topology keeps the value at its read). */
  readonly online: CpuSet;
  /** Housekeeping CPUs (--reserved-cpus): no pool hands them out, even one that lists them. */
  readonly reserved: CpuSet;
  /** The default pool, "isolated". */
  readonly pool: Pool;
  readonly pools: ReadonlyMap<PoolName, Pool>;
}

export interface HostViewOptions {
  /** The general pool (--general-pool), when configured. */
  readonly general?: CpuSet;
  /** The online CPUs when newer than the topology's. */
  readonly online?: CpuSet;
  /** Housekeeping CPUs (--reserved-cpus). */
  readonly reserved?: CpuSet;
  /** Pools that must hand out nothing, with the reason (docs/architecture.md, degraded start). */
  readonly unavailable?: Readonly<Partial<Record<PoolName, string>>>;
}

export function hostView(topology: Topology, options: HostViewOptions = {}): HostView {
  const online = options.online ?? topology.online;
  const reserved = options.reserved ?? CpuSet.EMPTY;
  const usable = online.difference(reserved);
  const poolOf = (name: PoolName, source: Pool['source'], configured: CpuSet): Pool => {
    const unavailable = options.unavailable?.[name] ?? null;
    return { name, source, configured, eligible: unavailable === null ? configured.intersect(usable) : CpuSet.EMPTY, unavailable };
  };
  const pool = poolOf(DEFAULT_POOL, topology.poolSource, topology.pool);
  const pools = new Map<PoolName, Pool>([[pool.name, pool]]);
  if (options.general) pools.set('general', poolOf('general', 'configured', options.general));
  return { topology, online, reserved, pool, pools };
}

/** The pool a request names (the default pool when it names none), or POOL_NOT_FOUND. */
export function poolNamed(host: HostView, name: string | undefined): Pool {
  const pool = host.pools.get((name ?? DEFAULT_POOL) as PoolName);
  if (!pool) throw DomainErrors.poolNotFound(name ?? DEFAULT_POOL);
  return pool;
}

/** A plan: the ledger after the request, and what to answer. */
export interface Plan<R> {
  readonly next: Ledger;
  readonly result: R;
}

/**
 * The record with its CPUs replaced (its idle siblings with them); a record left without CPUs
 * drops its policies, its pool and its siblings.
 */
export function withCpus(
  record: ServiceRecord,
  cpus: CpuSet,
  explicit: CpuSet,
  policy: PreemptionPolicy = record.policy,
  pool: PoolName = record.pool,
  threadPolicy: ThreadPolicy = record.threadPolicy,
  siblings: CpuSet = CpuSet.EMPTY,
): ServiceRecord {
  if (cpus.isEmpty()) {
    const { policy, pool, threadPolicy, siblings } = EMPTY_RECORD;
    return { ...record, cpus, explicit, policy, pool, threadPolicy, siblings };
  }
  return { ...record, cpus, explicit, policy, pool, threadPolicy, siblings };
}

/**
 * What every allocation result and list entry says of the service: its policies (null while it
 * holds no CPUs), pool and idle siblings.
 */
export function serviceState(record: ServiceRecord, pool: PoolName) {
  const holds = !record.cpus.isEmpty();
  return {
    preemption_policy: holds ? record.policy : null,
    pool,
    cpu_thread_policy: holds ? record.threadPolicy : null,
    isolated_siblings: record.siblings.toString(),
  };
}

export function totals(pool: Pool, ledger: Ledger): { total_available_cpus: number; remaining_available_cpus: number } {
  return { total_available_cpus: pool.eligible.size, remaining_available_cpus: pool.eligible.difference(ledger.owned).size };
}
