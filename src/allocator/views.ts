// The read-only answers: list_allocations and get_topology. Both are computed once per
// (ledger, host) and reused by every read until the next change.
import type { GetTopologyResult, ListAllocationsResult } from '../../schema/index.js';
import type { CpuSet } from '../cpuset/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';
import type { Host } from './host.js';
import { totals } from './host.js';
import { perLedger } from './memo.js';

function nodesHolding(host: Host, cpus: CpuSet): number[] {
  const nodes = new Set<number>();
  for (const cpu of cpus) {
    const node = host.topology.nodeOf(cpu);
    if (node >= 0) nodes.add(node);
  }
  return [...nodes].sort((a, b) => a - b);
}

function entryOf(host: Host, name: string, record: ServiceRecord): ListAllocationsResult['allocations'][number] {
  return {
    service_name: name,
    allocated_cores: record.cpus.toString(),
    cores_count: record.cpus.size,
    is_explicit: !record.explicit.isEmpty(),
    explicit_cores: record.explicit.toString(),
    numa_nodes: nodesHolding(host, record.cpus),
    hugepages: record.hugepages.map((h) => ({ ...h })),
    stale_cores: record.cpus.difference(host.pool.eligible).toString(),
  };
}

export const listAllocations = perLedger((ledger: Ledger, host: Host): ListAllocationsResult => {
  const allocations = ledger.entries().map(([name, record]) => entryOf(host, name, record));
  return {
    total_allocations: allocations.length,
    total_allocated_cpus: ledger.owned.size,
    ...totals(host.pool, ledger),
    allocations,
  };
});

export const topologyView = perLedger((ledger: Ledger, host: Host): GetTopologyResult => {
  const { topology, pool } = host;
  const free = pool.eligible.difference(ledger.owned);
  return {
    pool: pool.configured.toString(),
    online: topology.online.toString(),
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
      };
    }),
  };
});
