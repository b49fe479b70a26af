// A described host: exactly what its sysfs tree holds, file by file. Tests and the `demo` command
// describe hosts with `fakeHost(...)` and write them out as a fake sysfs tree (sysfs.ts).
import { CpuSet, parseCpuList } from '../../cpuset/index.js';
import { buildTopology } from '../build.js';
import type { HugepageCounters, Topology } from '../topology.js';

export interface HugepageSpec {
  readonly node: number;
  readonly sizeKb: number;
  readonly total: number;
  readonly free: number;
}

export interface FakeHostSpec {
  readonly nodes: number;
  readonly coresPerNode: number;
  /** SMT threads per core. */
  readonly threads: number;
  /**
   * CPU numbering, with C cores in all and T threads per core: `intel` (default) numbers thread t
   * of core c as c + t·C; `amd` as c·T + t (a core's threads are adjacent).
   */
  readonly siblings?: 'intel' | 'amd';
  /** The `isolated` file; default "" (nothing isolated, as without `isolcpus`). */
  readonly pool?: string;
  /**
   * The `online` file; default every CPU. CPUs left out are offline and shown as the kernel does:
   * absent from node cpulists, from sibling lists, and without a thread_siblings_list.
   */
  readonly online?: string;
  /** No `node*` directories (a kernel without NUMA). */
  readonly noNumaDirs?: boolean;
  /** No `isolated` file. */
  readonly noIsolated?: boolean;
  /** No `online` file. */
  readonly noOnline?: boolean;
  /** No `present` file (it lists every CPU of the host otherwise, online or not). */
  readonly noPresent?: boolean;
  /** No thread_siblings_list files. */
  readonly noSiblings?: boolean;
  /**
   * L3 caches per node: each node's cores split into this many domains of consecutive cores (every
   * thread of a core in its core's domain), and every online CPU given the cache directories of a
   * real kernel (index0/1 L1d/L1i and index2 L2 of its core, index3 the L3 of its domain).
   * Default: no cache directories.
   */
  readonly l3PerNode?: number;
  /** Hugepage pools; a node not named here has no hugepages directory. */
  readonly hugepages?: readonly HugepageSpec[];
}

/** One `cache/index<N>` directory of a CPU: the cache's level, type and the CPUs sharing it. */
export interface FakeCache {
  readonly level: number;
  readonly type: 'Data' | 'Instruction' | 'Unified';
  readonly shared: CpuSet;
}

/** The content of every file of the tree; null where the file is missing. */
export interface FakeHost {
  readonly isolated: CpuSet | null;
  readonly online: CpuSet | null;
  /** CPUs that exist, online or not. */
  readonly present: CpuSet | null;
  /** null: no `node*` directories. */
  readonly nodes: readonly { readonly id: number; readonly cpus: CpuSet }[] | null;
  /** thread_siblings_list of each CPU that has one, by CPU. */
  readonly siblings: ReadonlyMap<number, CpuSet>;
  /** The cache directories of each CPU that has them, by CPU; index N is the Nth entry. */
  readonly caches: ReadonlyMap<number, readonly FakeCache[]>;
  /** Sorted by node, then size. */
  readonly hugepages: readonly HugepageCounters[];
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`host: ${name} must be an integer ≥ ${min}, got ${value}`);
}

function hugepageCounters(spec: FakeHostSpec): HugepageCounters[] {
  const pools = (spec.hugepages ?? []).map((h) => {
    if (spec.noNumaDirs) throw new RangeError('host: hugepages need node directories');
    checkCount('hugepage node', h.node, 0);
    if (h.node >= spec.nodes) throw new RangeError(`host: hugepages on node ${h.node}, which does not exist`);
    checkCount('hugepage size', h.sizeKb, 1);
    return Object.freeze({ node_id: h.node, size_kb: h.sizeKb, total: h.total, free_kernel: h.free });
  });
  pools.sort((a, b) => a.node_id - b.node_id || a.size_kb - b.size_kb);
  pools.forEach((p, i) => {
    const before = pools[i - 1];
    if (before && before.node_id === p.node_id && before.size_kb === p.size_kb) {
      throw new RangeError(`host: hugepages of ${p.size_kb} kB on node ${p.node_id} given twice`);
    }
  });
  return pools;
}

/** Each core's L1d, L1i and L2, and its domain's L3 (cores split evenly per node, see l3PerNode). */
function cacheDirs(spec: FakeHostSpec, coreThreads: readonly CpuSet[]): Map<number, readonly FakeCache[]> {
  const caches = new Map<number, readonly FakeCache[]>();
  const perNode = spec.l3PerNode;
  if (perNode === undefined) return caches;
  checkCount('l3PerNode', perNode, 1);
  if (spec.coresPerNode % perNode !== 0) throw new RangeError(`host: ${spec.coresPerNode} cores per node do not split into ${perNode} L3 domains`);
  const coresPerDomain = spec.coresPerNode / perNode;
  coreThreads.forEach((threads, core) => {
    const first = core - (core % coresPerDomain);
    const domain = coreThreads.slice(first, first + coresPerDomain).reduce((a, b) => a.union(b), CpuSet.EMPTY);
    const dirs: readonly FakeCache[] = Object.freeze([
      { level: 1, type: 'Data', shared: threads },
      { level: 1, type: 'Instruction', shared: threads },
      { level: 2, type: 'Unified', shared: threads },
      { level: 3, type: 'Unified', shared: domain },
    ]);
    for (const cpu of threads) caches.set(cpu, dirs);
  });
  return caches;
}

export function fakeHost(spec: FakeHostSpec): FakeHost {
  checkCount('nodes', spec.nodes, 1);
  checkCount('coresPerNode', spec.coresPerNode, 1);
  checkCount('threads', spec.threads, 1);
  const cores = spec.nodes * spec.coresPerNode;
  const threads = spec.threads;
  const cpuOf = spec.siblings === 'amd' ? (c: number, t: number) => c * threads + t : (c: number, t: number) => c + t * cores;
  const all = CpuSet.range(0, cores * threads - 1);
  const online = spec.online === undefined ? all : parseCpuList(spec.online);

  const coreThreads = Array.from({ length: cores }, (_, c) =>
    CpuSet.from(Array.from({ length: threads }, (_, t) => cpuOf(c, t))).intersect(online),
  );
  const nodes = Array.from({ length: spec.nodes }, (_, id) =>
    Object.freeze({
      id,
      cpus: coreThreads.slice(id * spec.coresPerNode, (id + 1) * spec.coresPerNode).reduce((a, b) => a.union(b), CpuSet.EMPTY),
    }),
  );
  const siblings = new Map<number, CpuSet>();
  if (!spec.noSiblings) {
    for (const threadsOfCore of coreThreads) for (const cpu of threadsOfCore) siblings.set(cpu, threadsOfCore);
  }

  return Object.freeze({
    isolated: spec.noIsolated ? null : parseCpuList(spec.pool ?? ''),
    online: spec.noOnline ? null : online,
    present: spec.noPresent ? null : all,
    nodes: spec.noNumaDirs ? null : Object.freeze(nodes),
    siblings,
    caches: cacheDirs(spec, coreThreads),
    hugepages: Object.freeze(hugepageCounters(spec)),
  });
}

/**
 * The topology the daemon would read from `desc` written out as a sysfs tree, built in memory
 * through the reader's own builder (tests and benchmarks use it without touching disk).
 */
export function topologyOf(desc: FakeHost, cpuPool?: CpuSet): Topology {
  return buildTopology(
    {
      isolated: desc.isolated,
      online: desc.online,
      nodes:
        desc.nodes?.map(({ id, cpus }) => ({
          id,
          cpus,
          hugepageSizes: desc.hugepages.filter((h) => h.node_id === id).map((h) => h.size_kb),
        })) ?? null,
      siblingsOf: (cpu) => desc.siblings.get(cpu) ?? null,
      l3Of: (cpu) => desc.caches.get(cpu)?.find((cache) => cache.level === 3)?.shared ?? null,
    },
    cpuPool,
  );
}
