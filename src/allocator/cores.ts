// The CPU methods (docs/api.md) as pure plans: (host, ledger, params) → (next ledger,
// result), or a DomainError that leaves everything as it was.
import { CpuSet, parseCpuList } from '../cpuset/index.js';
import { DEFAULT_POOL, DEFAULT_THREAD_POLICY, DomainErrors } from '../../schema/index.js';
import type {
  AllocateCoresParams,
  AllocateCoresResult,
  AllocateCoresPercentParams,
  AllocateCoresPercentResult,
  AllocateNumaCoresParams,
  AllocateNumaCoresResult,
  PoolName,
  PreemptionPolicy,
  ExplicitlyAllocateCoresParams,
  ExplicitlyAllocateCoresResult,
  PreemptedEntry,
  ReleaseServiceParams,
  ReleaseServiceResult,
  ThreadPolicy,
} from '../../schema/index.js';
import type { NumaNode } from '../topology/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';
import { type HostView, type Plan, type Pool, poolNamed, serviceState, totals, withCpus } from './host-view.js';
import { pickByCores } from './placement.js';
import { placeUnder, shareUnder, type Placed } from './thread-policy.js';

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

/** The service's thread policy after a request: the one asked for, else its current one. */
function threadPolicyAfter(record: ServiceRecord, asked: ThreadPolicy | undefined): ThreadPolicy {
  return asked ?? (record.cpus.isEmpty() ? DEFAULT_THREAD_POLICY : record.threadPolicy);
}

/** The CPUs other services hold (their idle siblings included): never the service's to place on. */
function othersOf(ledger: Ledger, record: ServiceRecord): CpuSet {
  return ledger.owned.difference(record.cpus).difference(record.siblings);
}

interface AllocationOptions {
  readonly pool?: string;
  readonly preemption_policy?: PreemptionPolicy;
  readonly cpu_thread_policy?: ThreadPolicy;
}

function replace(ledger: Ledger, service: string, record: ServiceRecord): Ledger {
  return ledger.withChanges(new Map([[service, record]]));
}

/** Sets the service's CPUs to exactly `count` automatic CPUs of the pool, or releases them on -1. */
function placeAutomatic(host: HostView, ledger: Ledger, service: string, count: number, options: AllocationOptions) {
  const { pool, record } = claim(host, ledger, service, options.pool);
  const policy = policyAfter(record, options.preemption_policy, count !== -1);
  const threads = threadPolicyAfter(record, options.cpu_thread_policy);
  const free = pool.eligible.difference(othersOf(ledger, record));
  if (count === -1) {
    const next = replace(ledger, service, withCpus(record, CpuSet.EMPTY, CpuSet.EMPTY));
    return { next, pool, placed: { cpus: CpuSet.EMPTY, siblings: CpuSet.EMPTY }, free };
  }
  if (pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus(pool.unavailable);
  keepProtected(record, pool, record.cpus);
  const wanted = count === 0 ? shareUnder(threads, host.topology, free, defaultCoreCount) : count;
  // require and isolate say how many whole cores there are (placeUnder), not how many CPUs.
  if (threads === 'prefer' && wanted > free.size) throw DomainErrors.insufficientCpus(wanted, free.size);
  const placed = placeUnder(threads, host.topology, record.cpus.intersect(free), free, wanted);
  const next = replace(ledger, service, withCpus(record, placed.cpus, CpuSet.EMPTY, policy, pool.name, threads, placed.siblings));
  return { next, pool, placed, free };
}

export function allocateCores(host: HostView, ledger: Ledger, p: AllocateCoresParams): Plan<AllocateCoresResult> {
  const { next, pool, placed, free } = placeAutomatic(host, ledger, p.service_name, p.num_of_cores, p);
  return {
    next,
    result: {
      service_name: p.service_name,
      num_of_cores: p.num_of_cores,
      cores_allocated: placed.cpus.size,
      allocated_cores: placed.cpus.toString(),
      shared_cpus: free.difference(placed.cpus).difference(placed.siblings).toString(),
      ...totals(pool, next),
      ...serviceState(next.recordOf(p.service_name), pool.name),
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
  const { next, pool, placed } = placeAutomatic(host, ledger, p.service_name, count, p);
  return {
    next,
    result: {
      service_name: p.service_name,
      cores_allocated_count: placed.cpus.size,
      allocated_cores: placed.cpus.toString(),
      ...totals(pool, next),
      ...serviceState(next.recordOf(p.service_name), pool.name),
    },
  };
}

function numaNode(host: HostView, nodeId: number) {
  if (!host.topology.numaAvailable) throw DomainErrors.numaTopologyUnavailable();
  const node = host.topology.nodes.find((n) => n.id === nodeId);
  if (!node) throw DomainErrors.numaNodeNotFound(nodeId);
  return node;
}

/**
 * The CPUs of a pool that a request may take from other services (`others`, othersOf): automatic
 * CPUs of legacy services of the pool (never explicit, protected or idle siblings, nor another
 * pool's, which are stale here); none for a protected request.
 */
function preemptibleFor(ledger: Ledger, others: CpuSet, pool: Pool, policy: PreemptionPolicy): CpuSet {
  if (policy === 'non-preemptive') return CpuSet.EMPTY;
  return others
    .intersect(ledger.ownedIn(pool.name))
    .difference(ledger.explicitOwned)
    .difference(ledger.protectedOwned)
    .difference(ledger.siblingsOwned);
}

/**
 * The ledger with the service's new record, after taking `taken` from the other services that
 * held it (a service that runs isolated also loses the idle siblings of the cores it loses, which
 * go back to the pool), and what each of them lost.
 */
function withPreemption(ledger: Ledger, host: HostView, taken: CpuSet, service: string, record: ServiceRecord) {
  const changes = new Map<string, ServiceRecord>();
  const preempted: PreemptedEntry[] = [];
  for (const [victim, cpus] of byOwner(ledger, taken)) {
    const v = ledger.recordOf(victim);
    let lostCores = CpuSet.EMPTY;
    if (!v.siblings.isEmpty()) for (const cpu of cpus) lostCores = lostCores.union(host.topology.coreOf(cpu)?.threads ?? CpuSet.EMPTY);
    changes.set(victim, withCpus(v, v.cpus.difference(cpus), v.explicit, v.policy, v.pool, v.threadPolicy, v.siblings.difference(lostCores)));
    preempted.push({ service_name: victim, cores: cpus.toString() });
  }
  changes.set(service, record);
  return { next: ledger.withChanges(changes), preempted };
}

/**
 * Places k CPUs under a thread policy, free ones before preempted ones: from `free` alone when
 * that suffices, else from `free` and `preemptible` together.
 */
function placePreferringFree(host: HostView, node: NumaNode, threads: ThreadPolicy, own: CpuSet, free: CpuSet, preemptible: CpuSet, k: number): Placed {
  if (threads === 'prefer') {
    const placed = placeUnder(threads, host.topology, own, free, Math.min(k, free.size), node);
    if (placed.cpus.size === k) return placed;
    // Taken only when free CPUs do not suffice.
    return { cpus: placed.cpus.union(pickByCores(host.topology, preemptible, k - placed.cpus.size)), siblings: CpuSet.EMPTY };
  }
  try {
    return placeUnder(threads, host.topology, own, free, k, node);
  } catch (error) {
    if (preemptible.isEmpty()) throw error;
    return placeUnder(threads, host.topology, own, free.union(preemptible), k, node);
  }
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
  const threads = threadPolicyAfter(record, p.cpu_thread_policy);
  const others = othersOf(ledger, record);
  let placed: Placed = { cpus: CpuSet.EMPTY, siblings: CpuSet.EMPTY };

  if (!release) {
    if (pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus(pool.unavailable);
    keepProtected(record, pool, record.cpus.intersect(node.cpus));
    const onNode = pool.eligible.intersect(node.cpus);
    const preemptible = onNode.intersect(preemptibleFor(ledger, others, pool, policy));
    const free = onNode.difference(others);
    const candidates = free.union(preemptible);
    if (threads === 'prefer' && candidates.size < p.num_of_cores) {
      throw DomainErrors.insufficientNumaCpus(p.numa_node, p.num_of_cores, candidates.size, pool.name);
    }
    placed = placePreferringFree(host, node, threads, record.cpus.intersect(free), free, preemptible, p.num_of_cores);
  }
  const explicit = record.explicit.difference(node.cpus).union(placed.cpus);
  // Idle siblings elsewhere stay only while the service stays isolated.
  const siblings = threads === 'isolate' ? record.siblings.difference(node.cpus).union(placed.siblings) : CpuSet.EMPTY;
  const after = withCpus(record, elsewhere.union(placed.cpus), explicit, policy, pool.name, threads, siblings);
  const { next, preempted } = withPreemption(ledger, host, placed.cpus.union(placed.siblings).intersect(others), service, after);
  return {
    next,
    result: {
      service_name: service,
      numa_node: p.numa_node,
      num_of_cores: p.num_of_cores,
      cores_allocated: placed.cpus.toString(),
      ...totals(pool, next),
      preempted,
      ...serviceState(next.recordOf(service), pool.name),
    },
  };
}

/**
 * The requested CPUs a request may be given: eligible, and free or preemptible; under require only
 * whole cores of those, under isolate one thread per whole core (the lowest requested), its other
 * threads (requested or not) held idle.
 */
function givable(host: HostView, threads: ThreadPolicy, requested: CpuSet, allowed: CpuSet): Placed {
  const wanted = requested.intersect(allowed);
  if (threads === 'prefer') return { cpus: wanted, siblings: CpuSet.EMPTY };
  const cpus: number[] = [];
  const siblings: number[] = [];
  const seen = new Set<number>();
  for (const cpu of wanted) {
    const core = host.topology.coreOf(cpu);
    if (core === undefined || seen.has(core.id)) continue;
    seen.add(core.id);
    if (!core.threadList.every((t) => allowed.has(t))) continue;
    if (threads === 'require') {
      if (core.threadList.every((t) => requested.has(t))) cpus.push(...core.threadList);
    } else {
      cpus.push(cpu);
      siblings.push(...core.threadList.filter((t) => t !== cpu));
    }
  }
  return { cpus: CpuSet.from(cpus), siblings: CpuSet.from(siblings) };
}

export function explicitlyAllocateCores(
  host: HostView,
  ledger: Ledger,
  p: ExplicitlyAllocateCoresParams,
): Plan<ExplicitlyAllocateCoresResult> {
  const service = p.service_name;
  const { pool, record } = claim(host, ledger, service, p.pool);
  const policy = policyAfter(record, p.preemption_policy, true);
  const threads = threadPolicyAfter(record, p.cpu_thread_policy);
  if (pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus(pool.unavailable);
  const requested = parseCpuList(p.cores_requested);
  const others = othersOf(ledger, record);
  const allowed = pool.eligible.difference(others).union(pool.eligible.intersect(preemptibleFor(ledger, others, pool, policy)));
  const placed = givable(host, threads, requested, allowed);
  const rejected = requested.difference(placed.cpus);
  if (placed.cpus.isEmpty()) throw DomainErrors.noRequestedCpus(requested.size, rejected.toString());
  const after = withCpus(record, placed.cpus, placed.cpus, policy, pool.name, threads, placed.siblings);
  const { next, preempted } = withPreemption(ledger, host, placed.cpus.union(placed.siblings).intersect(others), service, after);
  return {
    next,
    result: {
      service_name: service,
      cores_requested: p.cores_requested,
      cores_allocated: placed.cpus.toString(),
      cores_rejected: rejected.toString(),
      ...totals(pool, next),
      preempted,
      ...serviceState(next.recordOf(service), pool.name),
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
