// The CPU methods of SPEC section 4 as pure plans: (host, ledger, params) → (next ledger, result),
// or a DomainError that leaves everything as it was.
import { CpuSet } from '../cpuset/index.js';
import { DomainErrors } from '../../schema/index.js';
import type {
  AllocateCoresParams,
  AllocateCoresResult,
  AllocateCoresPercentParams,
  AllocateCoresPercentResult,
  AllocateNumaCoresParams,
  AllocateNumaCoresResult,
  ReleaseServiceParams,
  ReleaseServiceResult,
} from '../../schema/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';
import { type Host, type Plan, totals, withCpus } from './host.js';
import { pickByCores, placeCount } from './placement.js';

/** SPEC's default for `num_of_cores: 0` on a free pool of p CPUs (at least one CPU when any is free). */
export function defaultCoreCount(p: number): number {
  const n = p <= 100 ? Math.floor(0.8 * p) : p - 16;
  return p > 0 ? Math.max(1, n) : 1;
}

function replace(ledger: Ledger, service: string, record: ServiceRecord): Ledger {
  return ledger.withChanges(new Map([[service, record]]));
}

/** Sets the service's CPUs to exactly `count` automatic CPUs, or releases them on -1. */
function placeAutomatic(host: Host, ledger: Ledger, service: string, count: number) {
  const record = ledger.recordOf(service);
  const free = host.pool.eligible.difference(ledger.owned.difference(record.cpus));
  if (count === -1) {
    const next = replace(ledger, service, withCpus(record, CpuSet.EMPTY, CpuSet.EMPTY));
    return { next, cpus: CpuSet.EMPTY, free };
  }
  if (host.pool.eligible.isEmpty()) throw DomainErrors.noIsolatedCpus();
  const wanted = count === 0 ? defaultCoreCount(free.size) : count;
  if (wanted > free.size) throw DomainErrors.insufficientCpus(wanted, free.size);
  const cpus = placeCount(host.topology, record.cpus.intersect(free), free, wanted);
  const next = replace(ledger, service, withCpus(record, cpus, CpuSet.EMPTY));
  return { next, cpus, free };
}

export function allocateCores(host: Host, ledger: Ledger, p: AllocateCoresParams): Plan<AllocateCoresResult> {
  const { next, cpus, free } = placeAutomatic(host, ledger, p.service_name, p.num_of_cores);
  return {
    next,
    result: {
      service_name: p.service_name,
      num_of_cores: p.num_of_cores,
      cores_allocated: cpus.size,
      allocated_cores: cpus.toString(),
      shared_cpus: free.difference(cpus).toString(),
      ...totals(host.pool, next),
    },
  };
}

export function allocateCoresPercent(
  host: Host,
  ledger: Ledger,
  p: AllocateCoresPercentParams,
): Plan<AllocateCoresPercentResult> {
  const count = p.percent <= 0 ? -1 : Math.ceil((host.pool.eligible.size * p.percent) / 100);
  const { next, cpus } = placeAutomatic(host, ledger, p.service_name, count);
  return {
    next,
    result: {
      service_name: p.service_name,
      cores_allocated_count: cpus.size,
      allocated_cores: cpus.toString(),
      ...totals(host.pool, next),
    },
  };
}

function numaNode(host: Host, nodeId: number) {
  if (!host.topology.numaAvailable) throw DomainErrors.numaTopologyUnavailable();
  const node = host.topology.nodes.find((n) => n.id === nodeId);
  if (!node) throw DomainErrors.numaNodeNotFound(nodeId);
  return node;
}

export function allocateNumaCores(
  host: Host,
  ledger: Ledger,
  p: AllocateNumaCoresParams,
): Plan<AllocateNumaCoresResult> {
  const node = numaNode(host, p.numa_node);
  const service = p.service_name;
  const record = ledger.recordOf(service);
  const elsewhere = record.cpus.difference(node.cpus);
  const changes = new Map<string, ServiceRecord>();
  const preempted: { service_name: string; cores: string }[] = [];
  let chosen = CpuSet.EMPTY;

  if (p.num_of_cores !== -1) {
    const onNode = host.pool.eligible.intersect(node.cpus);
    const othersExplicit = ledger.explicitOwned.difference(record.explicit);
    const candidates = onNode.difference(othersExplicit).difference(ledger.protectedOwned.difference(record.cpus));
    if (candidates.size < p.num_of_cores) {
      throw DomainErrors.insufficientNumaCpus(p.numa_node, p.num_of_cores, candidates.size);
    }
    const own = record.cpus.intersect(candidates);
    const free = candidates.difference(ledger.owned);
    chosen = placeCount(host.topology, own, free, p.num_of_cores);
    if (chosen.size < p.num_of_cores) {
      // Other services' automatic CPUs on the node, taken only when free ones do not suffice.
      const preemptible = candidates.intersect(ledger.owned).difference(record.cpus);
      chosen = chosen.union(pickByCores(host.topology, preemptible, p.num_of_cores - chosen.size));
    }
    for (const [victim, taken] of byOwner(ledger, chosen.difference(record.cpus))) {
      const v = ledger.recordOf(victim);
      changes.set(victim, withCpus(v, v.cpus.difference(taken), v.explicit));
      preempted.push({ service_name: victim, cores: taken.toString() });
    }
  }
  changes.set(service, withCpus(record, elsewhere.union(chosen), record.explicit.difference(node.cpus).union(chosen)));
  const next = ledger.withChanges(changes);
  return {
    next,
    result: {
      service_name: service,
      numa_node: p.numa_node,
      num_of_cores: p.num_of_cores,
      cores_allocated: chosen.toString(),
      ...totals(host.pool, next),
      preempted,
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

export function releaseService(host: Host, ledger: Ledger, p: ReleaseServiceParams): Plan<ReleaseServiceResult> {
  const record = ledger.recordOf(p.service_name);
  const next = ledger.withChanges(new Map([[p.service_name, null]]));
  return {
    next,
    result: {
      service_name: p.service_name,
      released_cores: record.cpus.toString(),
      released_hugepages: record.hugepages.map((h) => ({ ...h })),
      ...totals(host.pool, next),
    },
  };
}
