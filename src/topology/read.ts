// Reads the host's CPU topology from sysfs into a frozen snapshot. Synchronous: it runs
// at start and on SIGHUP only, and reads a few small files per CPU.
import { CpuSet } from '../cpuset/index.js';
import { buildTopology } from './build.js';
import type { NodeFacts } from './build.js';
import { TopologyError } from './errors.js';
import { cpuListFrom, listOptional, readCpuListFile, readOptionalCountFile } from './files.js';
import { hugepageSizesOn, listNodeIds } from './hugepages.js';
import { cacheIndexOf, sysfsPaths } from './sysfs-paths.js';
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

/**
 * shared_cpu_list of a CPU's level-3 cache (the `cache/index*` directory whose `level` says 3);
 * null when the CPU has no cache directory or no level-3 cache. The CPUs of a host list their
 * caches in the same order, so the index that was level 3 for one CPU is tried first for the
 * next: two small reads per CPU rather than a listing and a read per cache (hosts have up to
 * 4096 CPUs).
 */
function l3Reader(root: string): (cpu: number) => CpuSet | null {
  let known: number | undefined;
  const isL3 = (cpu: number, index: number) => readOptionalCountFile(sysfsPaths.cacheLevel(root, cpu, index)) === 3;
  const sharedBy = (cpu: number, index: number) => readCpuListFile(sysfsPaths.cacheSharedCpus(root, cpu, index));
  return (cpu) => {
    if (known !== undefined && isL3(cpu, known)) return sharedBy(cpu, known);
    const indexes = (listOptional(sysfsPaths.caches(root, cpu)) ?? [])
      .map(cacheIndexOf)
      .filter((index) => index !== undefined)
      .sort((a, b) => a - b);
    // The remembered index was just read: not level 3 for this CPU.
    const index = indexes.find((i) => i !== known && isL3(cpu, i));
    if (index === undefined) return null;
    known = index;
    return sharedBy(cpu, index);
  };
}

/** Reads the CPU topology under `sysfsRoot`; throws TopologyError naming any malformed file. */
export function readTopology(sysfsRoot: string, options: ReadOptions = {}): Topology {
  const { onProblem } = options;
  const given = options.cpuPool;
  const cpuPool = given === undefined ? undefined : tolerant(onProblem, () => cpuListFrom('--cpu-pool', given), CpuSet.EMPTY);
  const l3Of = l3Reader(sysfsRoot);
  return buildTopology(
    {
      // With --cpu-pool the isolated file does not matter, so a broken one does not stop the daemon.
      isolated: cpuPool === undefined ? tolerant(onProblem, () => readCpuListFile(sysfsPaths.isolated(sysfsRoot)), null) : null,
      online: tolerant(onProblem, () => readCpuListFile(sysfsPaths.online(sysfsRoot)), null),
      nodes: readNodes(sysfsRoot, onProblem),
      siblingsOf: (cpu) => tolerant(onProblem, () => readCpuListFile(sysfsPaths.siblings(sysfsRoot, cpu)), null),
      l3Of: (cpu) => tolerant(onProblem, () => l3Of(cpu), null),
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
