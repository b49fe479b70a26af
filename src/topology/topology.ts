// The host as the allocator sees it: plain, frozen data built once per read of sysfs.
import { CpuSet } from '../cpuset/index.js';

export interface NumaNode {
  readonly id: number;
  /** Every CPU of the node (its cpulist). */
  readonly cpus: CpuSet;
  /**
   * The node's CPUs grouped by the L3 cache they share (cache/index* of level 3), ordered by lowest
   * CPU; an index here is the domain's id within the node. One domain of every CPU of the node
   * when the host has no cache files; none for a node without CPUs.
   */
  readonly l3Domains: readonly CpuSet[];
}

export interface PhysicalCore {
  /** The lowest thread of the core. */
  readonly id: number;
  /** All SMT threads of the core (thread_siblings_list). */
  readonly threads: CpuSet;
  /**
   * The same threads as a sorted list: a core's CpuSet spans every word up to its highest thread
   * (Intel numbering puts siblings thousands of CPUs apart), a list is 2–4 numbers to walk.
   */
  readonly threadList: readonly number[];
  readonly node: number;
}

export interface HugepageCounters {
  readonly node_id: number;
  readonly size_kb: number;
  /** nr_hugepages */
  readonly total: number;
  /** free_hugepages */
  readonly free_kernel: number;
}

export interface Topology {
  /** The allocatable pool: `isolated`, or `--cpu-pool` when given. */
  readonly pool: CpuSet;
  /** Where the pool came from. */
  readonly poolSource: 'isolated' | 'configured';
  /** CPUs that exist (`online`). */
  readonly online: CpuSet;
  /** False when the host has no `node*` directories; then `nodes` is one node 0 of every CPU. */
  readonly numaAvailable: boolean;
  /** Sorted by id. */
  readonly nodes: readonly NumaNode[];
  /** Sorted by id (lowest thread). Every online or pool CPU is in exactly one core. */
  readonly cores: readonly PhysicalCore[];
  /** Node id of a CPU, or -1 for a CPU outside every node. */
  nodeOf(cpu: number): number;
  /** The core holding a CPU, or undefined for a CPU the host does not know. */
  coreOf(cpu: number): PhysicalCore | undefined;
  /** Hugepage sizes (kB) present on each node, sorted; read with the CPU topology. */
  readonly hugepageSizes: ReadonlyMap<number, readonly number[]>;
}
