// Reads the host's CPU topology from sysfs into a frozen snapshot. Synchronous: it runs
// at start and on SIGHUP only, and reads a few small files per CPU.
import { CpuSet } from '../cpuset/index.js';
import { buildTopology } from './build.js';
import type { NodeFacts } from './build.js';
import { TopologyError } from './errors.js';
import { cpuListFrom, readCpuListFile } from './files.js';
import { hugepageSizesOn, listNodeIds } from './hugepages.js';
import { sysfsPaths } from './sysfs-paths.js';
import type { Topology } from './topology.js';

export interface ReadOptions {
  /** `--cpu-pool`: replaces the `isolated` file as the pool. */
  readonly cpuPool?: string;
  /**
   * Without it a malformed or unreadable file throws. With it, the file is reported here and read
   * as if it were missing, so what the rest of the tree says is still read (a degraded start).
   */
  readonly onProblem?: (problem: TopologyError) => void;
}

/** Reads one fact; a TopologyError goes to onProblem (and the fact counts as missing) when given. */
function tolerant<T>(onProblem: ReadOptions['onProblem'], read: () => T, missing: T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof TopologyError) || onProblem === undefined) throw error;
    onProblem(error);
    return missing;
  }
}

/**
 * The `node<N>` directories with their CPUs; null when there are none. A node directory without
 * a cpulist counts as a node without CPUs (memory-only nodes have an empty one).
 */
function readNodes(root: string, onProblem: ReadOptions['onProblem']): NodeFacts[] | null {
  const ids = tolerant(onProblem, () => listNodeIds(root), null);
  if (ids === null) return null;
  let seen = CpuSet.EMPTY;
  return ids.map((id) => {
    const path = sysfsPaths.nodeCpulist(root, id);
    const cpus = tolerant(
      onProblem,
      () => {
        const listed = readCpuListFile(path) ?? CpuSet.EMPTY;
        if (seen.intersects(listed)) {
          throw new TopologyError(path, `CPUs also listed by another node: ${listed.intersect(seen).toString()}`);
        }
        return listed;
      },
      CpuSet.EMPTY,
    );
    seen = seen.union(cpus);
    return { id, cpus, hugepageSizes: tolerant(onProblem, () => hugepageSizesOn(root, id), []) };
  });
}

/** Reads the CPU topology under `sysfsRoot`; throws TopologyError naming any malformed file. */
export function readTopology(sysfsRoot: string, options: ReadOptions = {}): Topology {
  const { onProblem } = options;
  const given = options.cpuPool;
  const cpuPool = given === undefined ? undefined : tolerant(onProblem, () => cpuListFrom('--cpu-pool', given), CpuSet.EMPTY);
  return buildTopology(
    {
      // With --cpu-pool the isolated file does not matter, so a broken one does not stop the daemon.
      isolated: cpuPool === undefined ? tolerant(onProblem, () => readCpuListFile(sysfsPaths.isolated(sysfsRoot)), null) : null,
      online: tolerant(onProblem, () => readCpuListFile(sysfsPaths.online(sysfsRoot)), null),
      nodes: readNodes(sysfsRoot, onProblem),
      siblingsOf: (cpu) => tolerant(onProblem, () => readCpuListFile(sysfsPaths.siblings(sysfsRoot, cpu)), null),
    },
    cpuPool,
  );
}

/** The `present` file (CPUs that exist, online or not), read to check a general pool; null when missing. */
export function readPresent(sysfsRoot: string): CpuSet | null {
  return readCpuListFile(sysfsPaths.present(sysfsRoot));
}

/** The `online` file alone, read before every change; null when the host has none. */
export function readOnline(sysfsRoot: string): CpuSet | null {
  return readCpuListFile(sysfsPaths.online(sysfsRoot));
}
