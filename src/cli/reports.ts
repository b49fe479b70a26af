// The human tables of `status`, `topology` and `memory`. Pure: daemon results in, text out.
import type { ResultOf } from '../../schema/index.js';
import { parseCpuList } from '../cpuset/index.js';
import { cpusWithCount, formatSizeKb, orDash, plural, renderTable } from './table.js';

type Allocations = ResultOf<'list_allocations'>;
type Allocation = Allocations['allocations'][number];
type Topology = ResultOf<'get_topology'>;
type Memory = ResultOf<'get_memory_info'>;

const NO_NUMA = 'No NUMA topology: every CPU counts as node 0.\n';

/** The node number of a "node<N>" key. */
const nodeIdOf = (key: string): number => Number(key.slice('node'.length));

function hugepageList(entries: Allocation['hugepages']): string {
  if (entries.length === 0) return '-';
  return entries.map((h) => `${h.count} x ${formatSizeKb(h.size_kb)} on node ${h.node_id}`).join(', ');
}

/**
 * One line per pool with the figures an operator checks first: where its CPUs come from, how many
 * are eligible, allocated, held idle (isolate), free and unavailable (held but offline or out of the
 * pool), and why it hands out none when it cannot. Allocated counts every CPU held, so eligible =
 * allocated + idle − unavailable + free.
 */
function poolSummary(list: Allocations): string {
  const pool = list.cpu_pool;
  const source = pool.source === 'isolated' ? 'the isolated list' : 'configured';
  const unavailable = parseCpuList(pool.unavailable_allocated_cpus);
  const which = unavailable.isEmpty() ? '' : `; held but unavailable: ${unavailable.toString()}`;
  const reason = pool.unavailable_reason === null ? '' : `; hands out no CPU: ${pool.unavailable_reason}`;
  // Threads an isolate policy holds idle are neither allocated nor free: counted apart, so the figures add up.
  const idle = list.allocations.reduce((sum, a) => sum + parseCpuList(a.isolated_siblings).size, 0);
  return (
    `Pool ${pool.name}: ${orDash(pool.configured_cpus)} (${source}), ${plural(list.total_available_cpus, 'CPU')} eligible, ` +
    `${list.total_allocated_cpus} allocated, ${idle > 0 ? `${idle} held idle, ` : ''}${list.remaining_available_cpus} free, ${unavailable.size} unavailable, ` +
    `${plural(list.total_allocations, 'service')}${which}${reason}\n`
  );
}

/** The housekeeping CPUs (get_topology's `reserved`) as a line; nothing when there are none. */
function reservedLine(topology: Topology): string {
  return topology.reserved === '' ? '' : `Reserved ${cpusWithCount(topology.reserved)}: housekeeping CPUs, never handed out\n`;
}

/** Per NUMA node: the default pool's CPUs there, what is free, and which service holds which CPUs. */
function nodeTable(entries: readonly Allocation[], topology: Topology): string {
  if (topology.numa_nodes.length === 0) return NO_NUMA;
  const held = entries.map((a) => ({ name: a.service_name, cpus: parseCpuList(a.allocated_cores) }));
  const rows = topology.numa_nodes.flatMap((node) => {
    const nodeCpus = parseCpuList(node.cpus);
    const first = [String(node.node_id), cpusWithCount(node.pool_cpus), cpusWithCount(node.free_cpus)];
    const holders = held
      .map(({ name, cpus }) => ({ name, cpus: cpus.intersect(nodeCpus) }))
      .filter(({ cpus }) => !cpus.isEmpty());
    if (holders.length === 0) return [[...first, '-', '-']];
    return holders.map(({ name, cpus }, index) => [
      ...(index === 0 ? first : ['', '', '']),
      name,
      cpusWithCount(cpus.toString()),
    ]);
  });
  return renderTable(['NODE', 'POOL', 'FREE', 'SERVICE', 'CPUS'], rows);
}

function serviceTable(entries: readonly Allocation[]): string {
  if (entries.length === 0) return 'No allocations.\n';
  const rows = entries.map((a) => [
    a.service_name,
    a.pool,
    a.preemption_policy ?? '-',
    a.cpu_thread_policy ?? '-',
    cpusWithCount(a.allocated_cores),
    orDash(a.explicit_cores),
    orDash(a.isolated_siblings),
    a.numa_nodes.length === 0 ? '-' : a.numa_nodes.join(','),
    hugepageList(a.hugepages),
    orDash(a.stale_cores),
  ]);
  // IDLE: the threads an isolate policy holds idle beside the service's CPUs.
  return renderTable(['SERVICE', 'POOL', 'POLICY', 'THREADS', 'CPUS', 'EXPLICIT', 'IDLE', 'NODES', 'HUGEPAGES', 'STALE'], rows);
}

/**
 * Per NUMA node and hugepage size, what is reserved against what the kernel has:
 * "node0 2048 kB: 64 reserved, 448 free in the kernel, 512 total; 448 can still be reserved".
 */
function hugepageFigures(memory: Memory): string {
  const nodes = Object.entries(memory.numa_hugepages).sort(([a], [b]) => nodeIdOf(a) - nodeIdOf(b));
  if (nodes.length === 0) return 'hugepages: none on this host\n';
  return nodes
    .flatMap(([key, node]) => {
      const reservedBySize = new Map<number, number>();
      for (const bySize of Object.values(node.allocations)) {
        for (const [size, count] of Object.entries(bySize)) reservedBySize.set(Number(size), (reservedBySize.get(Number(size)) ?? 0) + count);
      }
      const sizes = [...new Set([...node.capacity.map((c) => c.size), ...reservedBySize.keys()])].sort((a, b) => a - b);
      if (sizes.length === 0) return [`${key}: no hugepages`];
      return sizes.map((size) => {
        const capacity = node.capacity.find((c) => c.size === size);
        if (capacity === undefined) {
          return `${key} ${size} kB: ${reservedBySize.get(size) ?? 0} reserved; the node no longer offers this size`;
        }
        return (
          `${key} ${size} kB: ${capacity.reserved} reserved, ${capacity.free_kernel} free in the kernel, ` +
          `${capacity.total} total; ${capacity.free} can still be reserved`
        );
      });
    })
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * `lists`: list_allocations of each configured pool, the default pool first. A line per pool, a
 * line per node and hugepage size, then the node table and the service table.
 */
export function formatStatus(lists: readonly Allocations[], topology: Topology, memory: Memory): string {
  const entries = lists
    .flatMap((list) => list.allocations)
    .sort((a, b) => (a.service_name < b.service_name ? -1 : a.service_name > b.service_name ? 1 : 0));
  const figures = lists.map(poolSummary).join('') + reservedLine(topology) + hugepageFigures(memory);
  return [figures, nodeTable(entries, topology), serviceTable(entries)].join('\n');
}

export function formatTopology(topology: Topology): string {
  const summary = `Pool ${cpusWithCount(topology.pool)}, online ${cpusWithCount(topology.online)}\n${reservedLine(topology)}`;
  if (topology.numa_nodes.length === 0) return [summary, NO_NUMA].join('\n');
  const table = renderTable(
    ['NODE', 'CPUS', 'POOL', 'FREE', 'CORES', 'HUGEPAGE SIZES'],
    topology.numa_nodes.map((node) => [
      String(node.node_id),
      cpusWithCount(node.cpus),
      cpusWithCount(node.pool_cpus),
      cpusWithCount(node.free_cpus),
      String(node.cores.length),
      node.hugepage_sizes_kb.length === 0 ? '-' : node.hugepage_sizes_kb.map(formatSizeKb).join(', '),
    ]),
  );
  const perNode = (listOf: (node: Topology['numa_nodes'][number]) => readonly string[]) =>
    topology.numa_nodes.map((node) => `  node ${node.node_id}: ${orDash(listOf(node).join('  '))}\n`).join('');
  return [
    summary,
    table,
    `Pool threads of each physical core:\n${perNode((node) => node.cores)}`,
    `L3 cache domains (CPUs sharing an L3 cache):\n${perNode((node) => node.l3_domains)}`,
  ].join('\n');
}

export function formatMemory(memory: Memory): string {
  const nodes = Object.entries(memory.numa_hugepages).sort(([a], [b]) => nodeIdOf(a) - nodeIdOf(b));
  if (nodes.length === 0) return NO_NUMA;
  const rows = nodes.flatMap(([key, node]) => {
    const id = String(nodeIdOf(key));
    const reservations = Object.entries(node.allocations);
    // A reservation whose size the node no longer offers still gets a row: it is still recorded.
    const sizes = [
      ...new Set([...node.capacity.map((c) => c.size), ...reservations.flatMap(([, bySize]) => Object.keys(bySize).map(Number))]),
    ].sort((a, b) => a - b);
    if (sizes.length === 0) return [[id, 'none', '-', '-', '-', '-', '-']];
    return sizes.map((size) => {
      const holders = reservations.flatMap(([service, bySize]) => {
        const count = bySize[String(size)];
        return count === undefined ? [] : [{ service, count }];
      });
      const capacity = node.capacity.find((c) => c.size === size);
      const reserved = capacity?.reserved ?? holders.reduce((sum, h) => sum + h.count, 0);
      return [
        id,
        formatSizeKb(size),
        capacity === undefined ? '-' : String(capacity.total),
        String(reserved),
        capacity === undefined ? '-' : String(capacity.free),
        capacity === undefined ? '-' : String(capacity.free_kernel),
        holders.length === 0 ? '-' : holders.map((h) => `${h.service} ${h.count}`).join(', '),
      ];
    });
  });
  return (
    'Hugepages per NUMA node; FREE is what can still be reserved: min(free in the kernel, total - reserved).\n\n' +
    renderTable(['NODE', 'SIZE', 'TOTAL', 'RESERVED', 'FREE', 'KERNEL FREE', 'RESERVED BY'], rows)
  );
}
