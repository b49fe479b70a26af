// The hugepage counters of each NUMA node. Which sizes a node has is fixed when the kernel boots and is
// read with the CPU topology; the counters change under the daemon and are read when asked for.
import { listOptional, readCountFile } from './files.js';
import { hugepageSizeOf, nodeIdOf, sysfsPaths } from './sysfs-paths.js';
import type { HugepageCounter } from './sysfs-paths.js';
import type { HugepageCounters } from './topology.js';

/** The node ids of the `node<N>` directories, sorted; null when there are none. */
export function listNodeIds(sysfsRoot: string): number[] | null {
  const ids = (listOptional(sysfsPaths.nodes(sysfsRoot)) ?? [])
    .map(nodeIdOf)
    .filter((id) => id !== undefined)
    .sort((a, b) => a - b);
  return ids.length > 0 ? ids : null;
}

/** The hugepage sizes (kB) of a node, sorted; none when its hugepages directory is missing. */
export function hugepageSizesOn(sysfsRoot: string, node: number): number[] {
  return (listOptional(sysfsPaths.hugepages(sysfsRoot, node)) ?? [])
    .map(hugepageSizeOf)
    .filter((size) => size !== undefined)
    .sort((a, b) => a - b);
}

/**
 * The counters of pools already known by node and size (the topology lists them at start and on
 * SIGHUP: sizes are fixed at boot), without listing directories: what every hugepage call reads.
 */
export function readHugepageCounters(sysfsRoot: string, sizes: ReadonlyMap<number, readonly number[]>): HugepageCounters[] {
  return [...sizes.keys()]
    .sort((a, b) => a - b)
    .flatMap((node) =>
      [...(sizes.get(node) ?? [])]
        .sort((a, b) => a - b)
        .map((size) => {
          const count = (counter: HugepageCounter) =>
            readCountFile(sysfsPaths.hugepageCounter(sysfsRoot, node, size, counter));
          return Object.freeze({
            node_id: node,
            size_kb: size,
            total: count('nr_hugepages'),
            free_kernel: count('free_hugepages'),
          });
        }),
    );
}
