// The read-only answers: list_allocations and get_topology. Both are computed once per ledger and
// host view, and reused (frozen) by every read until the next change or re-read of the host.
import { CPU_FEATURES, DEFAULT_POOL } from '../../schema/index.js';
import type { GetTopologyResult, ListAllocationsResult } from '../../schema/index.js';
import { CpuSet } from '../cpuset/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';
import type { HostView, Pool } from './host-view.js';
import { poolNamed, serviceState, totals } from './host-view.js';
import { Memo } from '../memo/index.js';

function nodesHolding(host: HostView, cpus: CpuSet): number[] {
  const nodes = new Set<number>();
  for (const cpu of cpus) {
    const node = host.topology.nodeOf(cpu);
    if (node >= 0) nodes.add(node);
  }
  return [...nodes].sort((a, b) => a - b);
}

type Entry = ListAllocationsResult['allocations'][number];

function entryOf(pool: Pool, host: HostView, name: string, record: ServiceRecord): Entry {
  return {
    service_name: name,
    allocated_cores: record.cpus.toString(),
    cores_count: record.cpus.size,
    is_explicit: !record.explicit.isEmpty(),
    explicit_cores: record.explicit.toString(),
    numa_nodes: nodesHolding(host, record.cpus),
    hugepages: record.hugepages.map((h) => ({ ...h })),
    stale_cores: record.cpus.difference(pool.eligible).toString(),
    ...serviceState(record, record.pool),
  };
}

/**
 * An entry depends only on the host view and the service's record (a record belongs to one service),
 * and a change shares every untouched record with the ledger before it: listing after a change
 * builds only the changed services' entries again.
 */
const entries = new Memo<[HostView, ServiceRecord], Entry>();

function listPool(ledger: Ledger, host: HostView, pool: Pool): ListAllocationsResult {
  const listed = ledger.entries().filter(([, record]) => record.pool === pool.name);
  let held = CpuSet.EMPTY;
  for (const [, record] of listed) held = held.union(record.cpus);
  return {
    pool: pool.name,
    total_allocations: listed.length,
    total_allocated_cpus: held.size,
    ...totals(pool, ledger),
    allocations: listed.map(([name, record]) => entries.get([host, record], () => entryOf(pool, host, name, record))),
    supported_cpu_features: [...CPU_FEATURES],
    cpu_pool: {
      name: pool.name,
      source: pool.source,
      configured_cpus: pool.configured.toString(),
      eligible_cpus: pool.eligible.toString(),
      unavailable_allocated_cpus: held.difference(pool.eligible).toString(),
      unavailable_reason: pool.unavailable,
    },
  };
}

const lists = new Memo<[Ledger, HostView, Pool], ListAllocationsResult>();

/** list_allocations of one pool (the default pool when none is named); POOL_NOT_FOUND otherwise. */
export function listAllocations(ledger: Ledger, host: HostView, poolName: string = DEFAULT_POOL): ListAllocationsResult {
  const pool = poolNamed(host, poolName);
  return lists.get([ledger, host, pool], () => listPool(ledger, host, pool));
}

const topologies = new Memo<[Ledger, HostView], GetTopologyResult>();

export function topologyView(ledger: Ledger, host: HostView): GetTopologyResult {
  return topologies.get([ledger, host], () => topologyOf(ledger, host));
}

function topologyOf(ledger: Ledger, host: HostView): GetTopologyResult {
  const { topology, pool } = host;
  const free = pool.eligible.difference(ledger.owned);
  return {
    pool: pool.configured.toString(),
    online: host.online.toString(),
    reserved: host.reserved.toString(),
    numa_nodes: topology.nodes.map((node) => {
      const poolCpus = node.cpus.intersect(pool.configured);
      return {
        node_id: node.id,
        cpus: node.cpus.toString(),
        pool_cpus: poolCpus.toString(),
        free_cpus: node.cpus.intersect(free).toString(),
        cores: topology.cores
          .filter((core) => core.node === node.id && core.threads.intersects(poolCpus))
          .map((core) => core.threads.intersect(poolCpus).toString()),
        hugepage_sizes_kb: [...(topology.hugepageSizes.get(node.id) ?? [])],
        l3_domains: node.l3Domains.map((domain) => domain.toString()),
      };
    }),
  };
}
