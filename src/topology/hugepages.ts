// Hugepage pools per NUMA node. The counters change under the daemon, so they are read fresh on
// every call that needs them: one directory listing per node and three small files per size.
import { listOptional, readCountFile } from './files.js';
import { hugepageSizeOf, nodeIdOf, sysfsLayout } from './layout.js';
import type { HugepageCounter } from './layout.js';
import type { HugepagePool } from './topology.js';

/** The node ids of the `node<N>` directories, sorted; null when there are none. */
export function listNodeIds(sysfsRoot: string): number[] | null {
  const ids = (listOptional(sysfsLayout.nodes(sysfsRoot)) ?? [])
    .map(nodeIdOf)
    .filter((id) => id !== undefined)
    .sort((a, b) => a - b);
  return ids.length > 0 ? ids : null;
}

/** The hugepage sizes (kB) of a node, sorted; none when its hugepages directory is missing. */
export function hugepageSizesOn(sysfsRoot: string, node: number): number[] {
  return (listOptional(sysfsLayout.hugepages(sysfsRoot, node)) ?? [])
    .map(hugepageSizeOf)
    .filter((size) => size !== undefined)
    .sort((a, b) => a - b);
}

/**
 * The hugepage pools of the given nodes (default: every `node<N>` directory), sorted by node,
 * then size. A node without a hugepages directory, or unknown, contributes none.
 */
export function readHugepagePools(sysfsRoot: string, nodes?: readonly number[]): HugepagePool[] {
  const ids = nodes === undefined ? (listNodeIds(sysfsRoot) ?? []) : [...new Set(nodes)].sort((a, b) => a - b);
  return readHugepageCounters(sysfsRoot, new Map(ids.map((node) => [node, hugepageSizesOn(sysfsRoot, node)])));
}

/**
 * The counters of pools already known by node and size (the topology lists them at start and on
 * SIGHUP: sizes are fixed at boot), without listing directories: what every hugepage call reads.
 */
export function readHugepageCounters(sysfsRoot: string, sizes: ReadonlyMap<number, readonly number[]>): HugepagePool[] {
  return [...sizes.keys()]
    .sort((a, b) => a - b)
    .flatMap((node) =>
      [...(sizes.get(node) ?? [])]
        .sort((a, b) => a - b)
        .map((size) => {
          const count = (counter: HugepageCounter) =>
            readCountFile(sysfsLayout.hugepageCounter(sysfsRoot, node, size, counter));
          return Object.freeze({
            node_id: node,
            size_kb: size,
            total: count('nr_hugepages'),
            free_kernel: count('free_hugepages'),
            surplus: count('surplus_hugepages'),
          });
        }),
    );
}
