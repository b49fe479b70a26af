// The CPU methods (docs/api.md) as pure plans: (host, ledger, params) → (next ledger,
// result), or a DomainError that leaves everything as it was.
import { CpuSet } from '../cpuset/index.js';
import { DEFAULT_POOL, DomainErrors } from '../../schema/index.js';
import type {
  AllocateCoresParams,
  AllocateCoresResult,
  AllocateCoresPercentParams,
  AllocateCoresPercentResult,
  AllocateNumaCoresParams,
  AllocateNumaCoresResult,
  PoolName,
  PreemptionPolicy,
  ReleaseServiceParams,
  ReleaseServiceResult,
} from '../../schema/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';
import { type HostView, type Plan, type Pool, policyOf, poolNamed, totals, withCpus } from './host-view.js';
import { pickByCores, placeCount } from './placement.js';

/** The default share (`num_of_cores: 0`) of a free pool of p CPUs; at least one CPU when any is free. */
function defaultCoreCount(p: number): number {
  const n = p <= 100 ? Math.floor(0.8 * p) : p - 16;
  return p > 0 ? Math.max(1, n) : 1;
}

interface Claim {
  readonly pool: Pool;
  readonly record: ServiceRecord;
}

/** The pool a request names, and the service's record, which may not hold CPUs in another pool. */
export function claim(host: HostView, ledger: Ledger, service: string, poolName: string | undefined): Claim {
  const pool = poolNamed(host, poolName);
  const record = ledger.recordOf(service);
  if (!record.cpus.isEmpty() && record.pool !== pool.name) throw DomainErrors.poolConflict(record.pool);
  return { pool, record };
}

/**
 * The service's policy after a request: the one asked for, else its current one (legacy for a
 * service without CPUs). Protected CPUs cannot be turned back into legacy ones while any is kept.
 */
function policyAfter(record: ServiceRecord, asked: PreemptionPolicy | undefined, keepsCpus: boolean): PreemptionPolicy {
  const holds = !record.cpus.isEmpty();
  if (asked === 'legacy' && holds && keepsCpus && record.policy === 'non-preemptive') throw DomainErrors.policyConflict();
  return asked ?? (holds ? record.policy : 'legacy');
}

/** A protected service may not lose CPUs that are offline or out of its pool by asking again. */
function keepProtected(record: ServiceRecord, pool: Pool, dropped: CpuSet): void {
  if (record.policy !== 'non-preemptive' || record.cpus.isEmpty()) return;
  const lost = dropped.intersect(record.cpus).difference(pool.eligible);
  if (!lost.isEmpty()) throw DomainErrors.cpusUnavailable(lost.toString());
}

function replace(ledger: Ledger, service: string, record: ServiceRecord): Ledger {
  return ledger.withChanges(new Map([[service, record]]));
}

/** Sets the service's CPUs to exactly `count` automatic CPUs of the pool, or releases them on -1. */
function placeAutomatic(
  host: HostView,
  ledger: Ledger,
  service: string,
  count: number,
  options: { pool?: string; preemption_policy?: PreemptionPolicy },
) {
  const { pool, record } = claim(host, ledger, service, options.pool);
  const policy = policyAfter(record, options.preemption_policy, count !== -1);
  const free = pool.eligible.difference(ledger.owned.difference(record.cpus));
  if (count === -1) {
    const next = replace(ledger, service, withCpus(record, CpuSet.EMPTY, CpuSet.EMPTY));
    return { next, pool, cpus: CpuSet.EMPTY, free };
  }
  if (pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus(pool.unavailable);
  keepProtected(record, pool, record.cpus);
  const wanted = count === 0 ? defaultCoreCount(free.size) : count;
  if (wanted > free.size) throw DomainErrors.insufficientCpus(wanted, free.size);
  const cpus = placeCount(host.topology, record.cpus.intersect(free), free, wanted);
  const next = replace(ledger, service, withCpus(record, cpus, CpuSet.EMPTY, policy, pool.name));
  return { next, pool, cpus, free };
}

export function allocateCores(host: HostView, ledger: Ledger, p: AllocateCoresParams): Plan<AllocateCoresResult> {
  const { next, pool, cpus, free } = placeAutomatic(host, ledger, p.service_name, p.num_of_cores, p);
  return {
    next,
    result: {
      service_name: p.service_name,
      num_of_cores: p.num_of_cores,
      cores_allocated: cpus.size,
      allocated_cores: cpus.toString(),
      shared_cpus: free.difference(cpus).toString(),
      ...totals(pool, next),
      preemption_policy: policyOf(next.recordOf(p.service_name)),
      pool: pool.name,
    },
  };
}

export function allocateCoresPercent(
  host: HostView,
  ledger: Ledger,
  p: AllocateCoresPercentParams,
): Plan<AllocateCoresPercentResult> {
  const size = poolNamed(host, p.pool).eligible.size;
  const count = p.percent <= 0 ? -1 : Math.ceil((size * p.percent) / 100);
  const { next, pool, cpus } = placeAutomatic(host, ledger, p.service_name, count, p);
  return {
    next,
    result: {
      service_name: p.service_name,
      cores_allocated_count: cpus.size,
      allocated_cores: cpus.toString(),
      ...totals(pool, next),
      preemption_policy: policyOf(next.recordOf(p.service_name)),
      pool: pool.name,
    },
  };
}

function numaNode(host: HostView, nodeId: number) {
  if (!host.topology.numaAvailable) throw DomainErrors.numaTopologyUnavailable();
  const node = host.topology.nodes.find((n) => n.id === nodeId);
  if (!node) throw DomainErrors.numaNodeNotFound(nodeId);
  return node;
}

export function allocateNumaCores(
  host: HostView,
  ledger: Ledger,
  p: AllocateNumaCoresParams,
): Plan<AllocateNumaCoresResult> {
  const node = numaNode(host, p.numa_node);
  const service = p.service_name;
  const { pool, record } = claim(host, ledger, service, p.pool);
  const elsewhere = record.cpus.difference(node.cpus);
  const release = p.num_of_cores === -1;
  const policy = policyAfter(record, p.preemption_policy, !release || !elsewhere.isEmpty());
  const changes = new Map<string, ServiceRecord>();
  const preempted: { service_name: string; cores: string }[] = [];
  let chosen = CpuSet.EMPTY;

  if (!release) {
    if (pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus(pool.unavailable);
    keepProtected(record, pool, record.cpus.intersect(node.cpus));
    const onNode = pool.eligible.intersect(node.cpus);
    const others = ledger.owned.difference(record.cpus);
    // Only other legacy services' automatic CPUs of this pool may be preempted (never explicit or
    // protected ones, nor another pool's, which are stale here); a protected request takes none.
    const preemptible =
      policy === 'non-preemptive'
        ? CpuSet.EMPTY
        : others.intersect(ledger.ownedIn(pool.name)).difference(ledger.explicitOwned).difference(ledger.protectedOwned);
    const candidates = onNode.difference(others).union(onNode.intersect(preemptible));
    if (candidates.size < p.num_of_cores) {
      throw DomainErrors.insufficientNumaCpus(p.numa_node, p.num_of_cores, candidates.size, pool.name);
    }
    const own = record.cpus.intersect(candidates);
    chosen = placeCount(host.topology, own, candidates.difference(ledger.owned), p.num_of_cores);
    if (chosen.size < p.num_of_cores) {
      // Taken only when free CPUs do not suffice.
      chosen = chosen.union(pickByCores(host.topology, candidates.intersect(others), p.num_of_cores - chosen.size));
    }
    for (const [victim, taken] of byOwner(ledger, chosen.difference(record.cpus))) {
      const v = ledger.recordOf(victim);
      changes.set(victim, withCpus(v, v.cpus.difference(taken), v.explicit));
      preempted.push({ service_name: victim, cores: taken.toString() });
    }
  }
  const explicit = record.explicit.difference(node.cpus).union(chosen);
  changes.set(service, withCpus(record, elsewhere.union(chosen), explicit, policy, pool.name));
  const next = ledger.withChanges(changes);
  return {
    next,
    result: {
      service_name: service,
      numa_node: p.numa_node,
      num_of_cores: p.num_of_cores,
      cores_allocated: chosen.toString(),
      ...totals(pool, next),
      preempted,
      preemption_policy: policyOf(next.recordOf(service)),
      pool: pool.name,
    },
  };
}

/** The owners of cpus, each with the CPUs of cpus it holds, sorted by service name. */
function byOwner(ledger: Ledger, cpus: CpuSet): [string, CpuSet][] {
  const groups = new Map<string, number[]>();
  for (const cpu of cpus) {
    const owner = ledger.ownerOf(cpu);
    if (owner === undefined) continue;
    const list = groups.get(owner) ?? [];
    list.push(cpu);
    groups.set(owner, list);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => [name, CpuSet.from(list)]);
}

/**
 * The claim of a release: as any other request's, except that naming the service's own pool
 * works even when that pool is no longer configured (a release always works).
 */
function releaseClaim(host: HostView, ledger: Ledger, service: string, poolName: string | undefined): Claim {
  const record = ledger.recordOf(service);
  const name = poolName ?? DEFAULT_POOL;
  if (!host.pools.has(name as PoolName) && !record.cpus.isEmpty() && record.pool === name) {
    return { pool: { name: record.pool, source: 'configured', configured: CpuSet.EMPTY, eligible: CpuSet.EMPTY, unavailable: null }, record };
  }
  return claim(host, ledger, service, poolName);
}

/** Releases every CPU and hugepage reservation; a service holding CPUs in another pool is refused. */
export function releaseService(host: HostView, ledger: Ledger, p: ReleaseServiceParams): Plan<ReleaseServiceResult> {
  const { pool, record } = releaseClaim(host, ledger, p.service_name, p.pool);
  const next = ledger.withChanges(new Map([[p.service_name, null]]));
  return {
    next,
    result: {
      service_name: p.service_name,
      released_cores: record.cpus.toString(),
      released_hugepages: record.hugepages.map((h) => ({ ...h })),
      ...totals(pool, next),
    },
  };
}
