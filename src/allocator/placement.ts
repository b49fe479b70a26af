// Which CPUs, per SPEC section 5. Each concern is one named step; every order is a key chain that
// ends on the id, so the same input always gives the same CPUs.
import { CpuSet } from '../cpuset/index.js';
import type { NumaNode, Topology } from '../topology/index.js';

interface CoreChoice {
  readonly id: number;
  /** The core's threads that are candidates. */
  readonly candidates: CpuSet;
  readonly whole: boolean;
}

/** The cores touched by candidates, each with its candidate threads. */
function coresOf(topology: Topology, candidates: CpuSet): CoreChoice[] {
  const seen = new Set<number>();
  const cores: CoreChoice[] = [];
  for (const cpu of candidates) {
    const core = topology.coreOf(cpu);
    const id = core?.id ?? cpu;
    if (seen.has(id)) continue;
    seen.add(id);
    const threads = core?.threads ?? CpuSet.of(cpu);
    const mine = threads.intersect(candidates);
    cores.push({ id, candidates: mine, whole: mine.size === threads.size });
  }
  return cores;
}

/**
 * Step 3: picks k CPUs of candidates: whole physical cores (lowest id first) while a whole core
 * fits, then the remainder from the cores with the fewest candidate threads, lowest CPU on ties.
 */
export function pickByCores(topology: Topology, candidates: CpuSet, k: number): CpuSet {
  if (k >= candidates.size) return candidates;
  if (k <= 0) return CpuSet.EMPTY;
  const cores = coresOf(topology, candidates);
  const picked: number[] = [];
  let left = k;
  const rest: CoreChoice[] = [];
  for (const core of cores) {
    if (core.whole && core.candidates.size <= left) {
      picked.push(...core.candidates);
      left -= core.candidates.size;
    } else {
      rest.push(core);
    }
  }
  rest.sort((a, b) => a.candidates.size - b.candidates.size || a.candidates.first() - b.candidates.first());
  for (const core of rest) {
    if (left === 0) break;
    const take = core.candidates.lowest(left);
    picked.push(...take);
    left -= take.size;
  }
  return CpuSet.from(picked);
}

/** Node ids ordered by how many of `held` each holds (most first), lowest id on ties. */
function nodesByHeld(topology: Topology, held: CpuSet): { node: NumaNode; held: CpuSet }[] {
  return topology.nodes
    .map((node) => ({ node, held: node.cpus.intersect(held) }))
    .filter((n) => !n.held.isEmpty())
    .sort((a, b) => b.held.size - a.held.size || a.node.id - b.node.id);
}

/** Step 1 when shrinking: keep k of held, on the nodes where most are held, whole cores first. */
export function keepOnFewestNodes(topology: Topology, held: CpuSet, k: number): CpuSet {
  if (k >= held.size) return held;
  let kept = CpuSet.EMPTY;
  for (const { held: onNode } of nodesByHeld(topology, held)) {
    const left = k - kept.size;
    if (left === 0) break;
    kept = kept.union(pickByCores(topology, onNode, left));
  }
  return kept;
}

/**
 * Step 2: k more CPUs from free for a service that holds `held`: first from the nodes it already
 * uses (most held first); then the best-fitting single node (fewest free that fits, lowest id);
 * when none fits, whole nodes with the most free first until the rest fits in one.
 */
export function addOnFewestNodes(topology: Topology, held: CpuSet, free: CpuSet, k: number): CpuSet {
  let added = CpuSet.EMPTY;
  let available = free;
  for (const { node } of nodesByHeld(topology, held)) {
    const left = k - added.size;
    if (left === 0) return added;
    const take = pickByCores(topology, node.cpus.intersect(available), left);
    added = added.union(take);
    available = available.difference(take);
  }
  for (;;) {
    const left = k - added.size;
    if (left === 0 || available.isEmpty()) return added;
    const perNode = topology.nodes
      .map((node) => ({ id: node.id, free: node.cpus.intersect(available) }))
      .filter((n) => !n.free.isEmpty());
    const fitting = perNode.filter((n) => n.free.size >= left).sort((a, b) => a.free.size - b.free.size || a.id - b.id);
    const target = fitting[0] ?? perNode.sort((a, b) => b.free.size - a.free.size || a.id - b.id)[0];
    // A CPU in no node's cpulist (a host whose sysfs disagrees with itself) is still usable: last.
    const take = pickByCores(topology, target?.free ?? available, left);
    added = added.union(take);
    available = available.difference(take);
  }
}

/**
 * Exactly k CPUs for a service that holds `held` (eligible ones), drawing new ones from `free`:
 * keeps as many held CPUs as k allows (step 1), then adds on the fewest nodes (step 2).
 */
export function placeCount(topology: Topology, held: CpuSet, free: CpuSet, k: number): CpuSet {
  if (held.size >= k) return keepOnFewestNodes(topology, held, k);
  return held.union(addOnFewestNodes(topology, held, free.difference(held), k - held.size));
}
