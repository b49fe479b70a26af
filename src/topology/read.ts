// Reads the host's CPU topology from sysfs (SPEC §2) into a frozen snapshot. Synchronous: it runs
// at start and on SIGHUP only, and reads a few small files per CPU.
import { CpuSet } from '../cpuset/index.js';
import { buildTopology } from './build.js';
import type { NodeFacts } from './build.js';
import { TopologyError } from './errors.js';
import { cpuListFrom, readCpuListFile } from './files.js';
import { hugepageSizesOn, listNodeIds } from './hugepages.js';
import { sysfsLayout } from './layout.js';
import type { Topology } from './topology.js';

export interface ReadOptions {
  /** `--cpu-pool`: replaces the `isolated` file as the pool. */
  readonly cpuPool?: string;
}

/**
 * The `node<N>` directories with their CPUs; null when there are none. A node directory without
 * a cpulist counts as a node without CPUs (memory-only nodes have an empty one).
 */
function readNodes(root: string): NodeFacts[] | null {
  const ids = listNodeIds(root);
  if (ids === null) return null;
  let seen = CpuSet.EMPTY;
  return ids.map((id) => {
    const path = sysfsLayout.nodeCpulist(root, id);
    const cpus = readCpuListFile(path) ?? CpuSet.EMPTY;
    if (seen.intersects(cpus)) {
      throw new TopologyError(path, `CPUs also listed by another node: ${cpus.intersect(seen).toString()}`);
    }
    seen = seen.union(cpus);
    return { id, cpus, hugepageSizes: hugepageSizesOn(root, id) };
  });
}

/** Reads the CPU topology under `sysfsRoot`; throws TopologyError naming any malformed file. */
export function readTopology(sysfsRoot: string, options: ReadOptions = {}): Topology {
  const cpuPool = options.cpuPool === undefined ? undefined : cpuListFrom('--cpu-pool', options.cpuPool);
  return buildTopology(
    {
      // With --cpu-pool the isolated file does not matter, so a broken one does not stop the daemon.
      isolated: cpuPool === undefined ? readCpuListFile(sysfsLayout.isolated(sysfsRoot)) : null,
      online: readCpuListFile(sysfsLayout.online(sysfsRoot)),
      nodes: readNodes(sysfsRoot),
      siblingsOf: (cpu) => readCpuListFile(sysfsLayout.siblings(sysfsRoot, cpu)),
    },
    cpuPool,
  );
}

/** The `online` file alone, read before every change (SPEC §10); null when the host has none. */
export function readOnline(sysfsRoot: string): CpuSet | null {
  return readCpuListFile(sysfsLayout.online(sysfsRoot));
}
