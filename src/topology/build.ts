// The topology snapshot from the raw facts of a sysfs tree, with the meaning of every missing
// file (docs/architecture.md, reading the host). Pure: the reader feeds it files, test fixtures
// feed it a host description, so both get the same rules.
import { CpuSet } from '../cpuset/index.js';
import type { NumaNode, PhysicalCore, Topology } from './topology.js';

export interface NodeFacts {
  readonly id: number;
  readonly cpus: CpuSet;
  /** Sizes (kB) of the node's hugepage pools, sorted; [] without a hugepages directory. */
  readonly hugepageSizes: readonly number[];
}

/** What a sysfs tree says; null where the file is missing. */
export interface HostFacts {
  readonly isolated: CpuSet | null;
  readonly online: CpuSet | null;
  /** Sorted by id, CPU sets disjoint; null when there are no `node*` directories. */
  readonly nodes: readonly NodeFacts[] | null;
  /** thread_siblings_list of a CPU; asked only for online and pool CPUs. */
  readonly siblingsOf: (cpu: number) => CpuSet | null;
  /** shared_cpu_list of the CPU's level-3 cache; null when the CPU has no cache files. */
  readonly l3Of?: (cpu: number) => CpuSet | null;
}

/**
 * A node's L3 domains: its CPUs grouped by the cache they share (what two CPUs' lists say within
 * the node), CPUs without cache files together, ordered by lowest CPU.
 */
function l3DomainsOf(cpus: CpuSet, l3Of: HostFacts['l3Of']): readonly CpuSet[] {
  if (cpus.isEmpty()) return Object.freeze([]);
  if (l3Of === undefined) return Object.freeze([cpus]);
  const groups = new Map<string, number[]>();
  for (const cpu of cpus) {
    const key = l3Of(cpu)?.intersect(cpus).toString() ?? '';
    const group = groups.get(key);
    if (group) group.push(cpu);
    else groups.set(key, [cpu]);
  }
  // Walked in CPU order, so groups come out ordered by their lowest CPU.
  return Object.freeze([...groups.values()].map((group) => CpuSet.from(group)));
}

/**
 * SMT cores: the CPUs linked by sibling lists, transitively. Lists that disagree (cpu 0 names 1,
 * cpu 1 names only itself) are merged rather than rejected, so every known CPU lands in exactly
 * one core whatever the files say; siblings outside `known` are ignored.
 * Returns, per CPU of `known`, its core id (the lowest CPU of its group).
 */
function groupSiblings(known: CpuSet, siblingsOf: HostFacts['siblingsOf']): Int32Array {
  const root = new Int32Array(known.last() + 1).fill(-1);
  for (const cpu of known) root[cpu] = cpu;
  const find = (cpu: number): number => {
    let r = cpu;
    while (root[r] !== r) r = root[r]!;
    for (let c = cpu; root[c] !== r; ) {
      const up = root[c]!;
      root[c] = r;
      c = up;
    }
    return r;
  };
  for (const cpu of known) {
    for (const sibling of siblingsOf(cpu) ?? CpuSet.EMPTY) {
      if (!known.has(sibling)) continue;
      const [a, b] = [find(cpu), find(sibling)];
      // The lower root wins, so every group's root is its lowest CPU: the core id.
      if (a < b) root[b] = a;
      else root[a] = b;
    }
  }
  for (const cpu of known) root[cpu] = find(cpu);
  return root;
}

function nodeTable(nodes: readonly NumaNode[]): Int32Array {
  const table = new Int32Array(Math.max(0, ...nodes.map((n) => n.cpus.last() + 1))).fill(-1);
  for (const node of nodes) for (const cpu of node.cpus) table[cpu] = node.id;
  return table;
}

/** `cpuPool` (from `--cpu-pool`) replaces `isolated` as the pool. */
export function buildTopology(facts: HostFacts, cpuPool?: CpuSet): Topology {
  const online = facts.online ?? (facts.nodes ?? []).reduce((all, n) => all.union(n.cpus), CpuSet.EMPTY);
  const pool = cpuPool ?? facts.isolated ?? CpuSet.EMPTY;
  const known = online.union(pool);
  // Without NUMA directories every CPU counts as node 0.
  const nodeFacts = facts.nodes ?? [{ id: 0, cpus: known, hugepageSizes: [] }];
  const nodes = Object.freeze(nodeFacts.map(({ id, cpus }) => Object.freeze({ id, cpus, l3Domains: l3DomainsOf(cpus, facts.l3Of) })));
  const nodeOfCpu = nodeTable(nodes);
  const nodeOf = (cpu: number): number => nodeOfCpu[cpu] ?? -1;

  const coreIds = groupSiblings(known, facts.siblingsOf);
  const members = new Map<number, number[]>();
  for (const cpu of known) {
    const id = coreIds[cpu]!;
    const list = members.get(id);
    if (list) list.push(cpu);
    else members.set(id, [cpu]);
  }
  // `known` is walked in order and a core's id is its lowest CPU, so cores come out sorted.
  const cores: readonly PhysicalCore[] = Object.freeze(
    [...members].map(([id, threads]) => Object.freeze({ id, threads: CpuSet.from(threads), threadList: Object.freeze(threads), node: nodeOf(id) })),
  );
  const coreOfCpu = new Array<PhysicalCore | undefined>(known.last() + 1).fill(undefined);
  for (const core of cores) for (const cpu of core.threads) coreOfCpu[cpu] = core;

  return Object.freeze({
    pool,
    poolSource: cpuPool === undefined ? 'isolated' : 'configured',
    online,
    numaAvailable: facts.nodes !== null,
    nodes,
    cores,
    nodeOf,
    coreOf: (cpu: number): PhysicalCore | undefined => coreOfCpu[cpu],
    hugepageSizes: Object.freeze(new Map(nodeFacts.map((n) => [n.id, Object.freeze([...n.hugepageSizes])]))),
  });
}
