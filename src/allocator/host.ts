// What the allocator needs to know of the host for one request: the topology snapshot and, per
// pool, the CPUs that may be handed out (pool ∩ online).
import type { CpuSet } from '../cpuset/index.js';
import type { Topology } from '../topology/index.js';
import type { Ledger, PoolName, ServiceRecord } from './ledger.js';
import { EMPTY_RECORD } from './ledger.js';

export interface Pool {
  readonly name: PoolName;
  /** The pool as configured (isolated list or --cpu-pool), offline CPUs included. */
  readonly configured: CpuSet;
  /** configured ∩ online: the CPUs that may be handed out. */
  readonly eligible: CpuSet;
}

export interface Host {
  readonly topology: Topology;
  readonly pool: Pool;
}

export function hostOf(topology: Topology): Host {
  return {
    topology,
    pool: { name: 'isolated', configured: topology.pool, eligible: topology.pool.intersect(topology.online) },
  };
}

/** A plan: the ledger after the request, and what to answer. */
export interface Plan<R> {
  readonly next: Ledger;
  readonly result: R;
}

/** The record with its CPUs replaced; a record without CPUs falls back to the defaults. */
export function withCpus(record: ServiceRecord, cpus: CpuSet, explicit: CpuSet): ServiceRecord {
  if (cpus.isEmpty()) return { ...record, cpus, explicit, policy: EMPTY_RECORD.policy, pool: EMPTY_RECORD.pool };
  return { ...record, cpus, explicit };
}

/** CPUs of the pool held by nobody. */
export function unowned(pool: Pool, ledger: Ledger): CpuSet {
  return pool.eligible.difference(ledger.owned);
}

export function totals(pool: Pool, ledger: Ledger): { total_available_cpus: number; remaining_available_cpus: number } {
  return { total_available_cpus: pool.eligible.size, remaining_available_cpus: unowned(pool, ledger).size };
}
