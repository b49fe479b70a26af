// Hugepage reservations (SPEC section 4): tracking only, the kernel pools are never changed.
// Kernel counters are passed in fresh for every call; reservations come from the ledger.
import { DomainErrors } from '../../schema/index.js';
import type {
  AllocateHugepagesParams,
  AllocateHugepagesResult,
  GetMemoryInfoParams,
  GetMemoryInfoResult,
} from '../../schema/index.js';
import type { HugepageCounters } from '../topology/index.js';
import type { HugepageReservation, Ledger } from './ledger.js';
import type { HostView, Plan } from './host-view.js';
import { perLedger } from './memo.js';

/** Pages of (node, size) that may still be reserved: max(0, min(free_kernel, total − reserved)). */
function freeHugepages(pool: HugepageCounters, ledger: Ledger): number {
  return Math.max(0, Math.min(pool.free_kernel, pool.total - ledger.reserved(pool.node_id, pool.size_kb)));
}

function withReservation(
  list: readonly HugepageReservation[],
  nodeId: number,
  sizeKb: number,
  count: number,
): HugepageReservation[] {
  const rest = list.filter((h) => h.node_id !== nodeId || h.size_kb !== sizeKb);
  if (count > 0) rest.push({ node_id: nodeId, size_kb: sizeKb, count });
  return rest.sort((a, b) => a.node_id - b.node_id || a.size_kb - b.size_kb);
}

export function allocateHugepages(
  host: HostView,
  ledger: Ledger,
  pools: readonly HugepageCounters[],
  p: AllocateHugepagesParams,
): Plan<AllocateHugepagesResult> {
  const record = ledger.recordOf(p.service_name);
  const current = record.hugepages.find((h) => h.node_id === p.node_id && h.size_kb === p.size_kb);
  const answer = (next: Ledger, message: string): Plan<AllocateHugepagesResult> => ({
    next,
    result: {
      service_name: p.service_name,
      hugepages_requested: p.hugepages_requested,
      allocation_successful: true,
      message,
      node_id: p.node_id,
      size_kb: p.size_kb,
    },
  });
  const update = (count: number) =>
    ledger.withChanges(
      new Map([[p.service_name, { ...record, hugepages: withReservation(record.hugepages, p.node_id, p.size_kb, count) }]]),
    );

  // A removal never fails on the node or the size: charms remove every node and size they might
  // have used on each configure, on hosts without 1 GiB pages too.
  if (p.hugepages_requested === -1) {
    return current ? answer(update(0), 'Removed recorded hugepage allocation') : answer(ledger, 'No existing record to remove');
  }
  if (!host.topology.nodes.some((n) => n.id === p.node_id)) throw DomainErrors.hugepageNodeNotFound(p.node_id);
  const pool = pools.find((h) => h.node_id === p.node_id && h.size_kb === p.size_kb);
  if (!pool) throw DomainErrors.hugepageSizeNotFound(p.node_id, p.size_kb);

  const delta = p.hugepages_requested - (current?.count ?? 0);
  const free = freeHugepages(pool, ledger);
  if (delta > free) throw DomainErrors.insufficientHugepages(p.node_id, p.size_kb, delta, free);
  return answer(
    update(p.hugepages_requested),
    `Recorded ${p.hugepages_requested} hugepages of ${p.size_kb} KB on NUMA node ${p.node_id}`,
  );
}

type NodeAllocations = Map<number, Record<string, Record<string, number>>>;

/** Reservations per node: {service: {"<size_kb>": count}}; once per ledger. */
const allocationsByNode = perLedger((ledger: Ledger, _key: object): NodeAllocations => {
  const byNode: NodeAllocations = new Map();
  for (const [service, record] of ledger.entries()) {
    for (const h of record.hugepages) {
      const node = byNode.get(h.node_id) ?? {};
      const sizes = (node[service] ??= {});
      sizes[String(h.size_kb)] = h.count;
      byNode.set(h.node_id, node);
    }
  }
  return byNode;
});
const NO_KEY = {};

export function memoryInfo(
  host: HostView,
  ledger: Ledger,
  pools: readonly HugepageCounters[],
  p: GetMemoryInfoParams,
): GetMemoryInfoResult {
  const allocations = allocationsByNode(ledger, NO_KEY);
  const nodeIds = new Set([...host.topology.nodes.map((n) => n.id), ...pools.map((h) => h.node_id), ...allocations.keys()]);
  const numa_hugepages: GetMemoryInfoResult['numa_hugepages'] = {};
  for (const id of [...nodeIds].sort((a, b) => a - b)) {
    const capacity = pools
      .filter((h) => h.node_id === id)
      .sort((a, b) => a.size_kb - b.size_kb)
      .map((h) => ({
        size: h.size_kb,
        total: h.total,
        free: freeHugepages(h, ledger),
        free_kernel: h.free_kernel,
        reserved: ledger.reserved(h.node_id, h.size_kb),
      }));
    numa_hugepages[`node${id}`] = { capacity, allocations: allocations.get(id) ?? {} };
  }
  return { service_name: p.service_name ?? '', numa_hugepages };
}
