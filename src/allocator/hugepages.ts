// Hugepage reservations (docs/api.md): tracking only, the kernel pools are never changed.
// Kernel counters are passed in (fresh for a change); reservations come from the ledger.
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
import { Memo } from '../memo/index.js';

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
  counters: readonly HugepageCounters[],
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
  const pool = counters.find((h) => h.node_id === p.node_id && h.size_kb === p.size_kb);
  if (!pool) throw DomainErrors.hugepageSizeNotFound(p.node_id, p.size_kb);

  const delta = p.hugepages_requested - (current?.count ?? 0);
  const free = freeHugepages(pool, ledger);
  if (delta > free) throw DomainErrors.insufficientHugepages(p.node_id, p.size_kb, delta, free);
  return answer(
    update(p.hugepages_requested),
    `Recorded ${p.hugepages_requested} hugepages of ${p.size_kb} KB on NUMA node ${p.node_id}`,
  );
}

type NumaHugepages = GetMemoryInfoResult['numa_hugepages'];

const byCounters = new Memo<[Ledger, HostView, readonly HugepageCounters[]], NumaHugepages>();
const unnamed = new Memo<[NumaHugepages], GetMemoryInfoResult>();

/**
 * get_memory_info. The answer depends on the ledger, the host and the counters read, so it is
 * made once per such triple (the counters of a read are reused for 100 ms) and, for a caller that
 * names no service, reused whole.
 */
export function memoryInfo(
  host: HostView,
  ledger: Ledger,
  counters: readonly HugepageCounters[],
  p: GetMemoryInfoParams,
): GetMemoryInfoResult {
  const numa_hugepages = byCounters.get([ledger, host, counters], () => numaHugepages(host, ledger, counters));
  if (p.service_name === undefined) return unnamed.get([numa_hugepages], () => ({ service_name: '', numa_hugepages }));
  return { service_name: p.service_name, numa_hugepages };
}

function numaHugepages(host: HostView, ledger: Ledger, counters: readonly HugepageCounters[]): NumaHugepages {
  // Reservations per node: {service: {"<size_kb>": count}}.
  const allocations = new Map<number, Record<string, Record<string, number>>>();
  for (const [service, record] of ledger.entries()) {
    for (const h of record.hugepages) {
      const node = allocations.get(h.node_id) ?? {};
      (node[service] ??= {})[String(h.size_kb)] = h.count;
      allocations.set(h.node_id, node);
    }
  }
  const nodeIds = new Set([...host.topology.nodes.map((n) => n.id), ...counters.map((h) => h.node_id), ...allocations.keys()]);
  const result: NumaHugepages = {};
  for (const id of [...nodeIds].sort((a, b) => a - b)) {
    const capacity = counters
      .filter((h) => h.node_id === id)
      .sort((a, b) => a.size_kb - b.size_kb)
      .map((h) => ({
        size: h.size_kb,
        total: h.total,
        free: freeHugepages(h, ledger),
        free_kernel: h.free_kernel,
        reserved: ledger.reserved(h.node_id, h.size_kb),
      }));
    result[`node${id}`] = { capacity, allocations: allocations.get(id) ?? {} };
  }
  return result;
}
