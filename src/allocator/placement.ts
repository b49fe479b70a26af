// Which CPUs (docs/architecture.md, placement). Each concern is one named step; every order is a
// key chain that ends on the id, so the same input always gives the same CPUs.
import { CpuSet } from '../cpuset/index.js';
import type { NumaNode, Topology } from '../topology/index.js';

/**
 * Step 3: picks k CPUs of candidates: whole physical cores (lowest id first) while a whole core
 * fits, then the remainder from the cores with the fewest candidate threads, lowest CPU on ties.
 * Cores are visited in order of their first candidate, which for a whole core is its id; the walk
 * stops as soon as whole cores give k.
 */
export function pickByCores(topology: Topology, candidates: CpuSet, k: number): CpuSet {
  if (k >= candidates.size) return candidates;
  if (k <= 0) return CpuSet.EMPTY;
  const picked: number[] = [];
  const rest: number[][] = [];
  const seen = new Set<number>();
  let left = k;
  for (const cpu of candidates) {
    const core = topology.coreOf(cpu);
    const threads = core ? core.threadList : [cpu];
    const id = threads[0] ?? cpu;
    if (seen.has(id)) continue;
    seen.add(id);
    const mine = threads.filter((t) => candidates.has(t));
    if (mine.length === threads.length && mine.length <= left) {
      picked.push(...mine);
      left -= mine.length;
      if (left === 0) break;
    } else {
      rest.push(mine);
    }
  }
  rest.sort((a, b) => a.length - b.length || a[0]! - b[0]!);
  for (const threads of rest) {
    if (left === 0) break;
    const take = threads.slice(0, left);
    picked.push(...take);
    left -= take.length;
  }
  return CpuSet.from(picked);
}

/**
 * Which of `groups` (a node's L3 domains) to draw k CPUs from, by the rule of the node step
 * (addOnFewestNodes): first the groups the service already uses (most held first); then the group with the fewest free
 * CPUs that fits what is left (best fit), lowest index on ties; when none fits, whole groups with
 * the most free first until the rest fits in one. Gives each chosen group's free CPUs and how
 * many to take there, in order.
 */
function shareAmong(groups: readonly CpuSet[], held: CpuSet, free: CpuSet, k: number): { free: CpuSet; take: number }[] {
  const perGroup = groups.map((cpus, index) => ({ index, free: cpus.intersect(free), held: held.isEmpty() ? 0 : cpus.intersect(held).size }));
  const shares: { free: CpuSet; take: number }[] = [];
  let left = k;
  const used = new Set<number>();
  const draw = (group: (typeof perGroup)[number]) => {
    const take = Math.min(left, group.free.size);
    used.add(group.index);
    if (take === 0) return;
    shares.push({ free: group.free, take });
    left -= take;
  };
  for (const group of perGroup.filter((g) => g.held > 0).sort((a, b) => b.held - a.held || a.index - b.index)) {
    if (left === 0) return shares;
    draw(group);
  }
  while (left > 0) {
    const open = perGroup.filter((g) => !used.has(g.index) && g.free.size > 0);
    if (open.length === 0) return shares;
    const fitting = open.filter((g) => g.free.size >= left).sort((a, b) => a.free.size - b.free.size || a.index - b.index);
    draw(fitting[0] ?? open.sort((a, b) => b.free.size - a.free.size || a.index - b.index)[0]!);
  }
  return shares;
}

/**
 * Step 2b, inside one node: k CPUs of `free` (the node's) from the fewest L3 domains, by the same
 * rule as nodes (shareAmong), then whole cores within each domain (step 3). A node that is one
 * domain (a host without cache files) goes straight to step 3.
 */
export function pickOnFewestL3(topology: Topology, node: NumaNode, held: CpuSet, free: CpuSet, k: number): CpuSet {
  if (k >= free.size) return free;
  if (node.l3Domains.length <= 1) return pickByCores(topology, free, k);
  let picked = CpuSet.EMPTY;
  for (const share of shareAmong(node.l3Domains, held, free, k)) picked = picked.union(pickByCores(topology, share.free, share.take));
  // CPUs of the node in no domain (a sysfs that disagrees with itself) come last.
  return picked.size < k ? picked.union(pickByCores(topology, free.difference(picked), k - picked.size)) : picked;
}

/** Node ids ordered by how many of `held` each holds (most first), lowest id on ties. */
function nodesByHeld(topology: Topology, held: CpuSet): { node: NumaNode; held: CpuSet }[] {
  // Counting per CPU of held (a service holds few) beats intersecting every node's CPUs.
  const counts = new Map<number, number>();
  for (const cpu of held) {
    const id = topology.nodeOf(cpu);
    if (id >= 0) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, na], [b, nb]) => nb - na || a - b)
    .flatMap(([id]) => {
      const node = topology.nodes.find((n) => n.id === id);
      return node ? [{ node, held: node.cpus.intersect(held) }] : [];
    });
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
  // CPUs in no node's cpulist (offline when the topology was read, online since) are kept last.
  return kept.union(pickByCores(topology, held.difference(kept), k - kept.size));
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
    const take = pickOnFewestL3(topology, node, held, node.cpus.intersect(available), left);
    added = added.union(take);
    available = available.difference(take);
  }
  for (;;) {
    const left = k - added.size;
    if (left === 0 || available.isEmpty()) return added;
    const perNode = topology.nodes
      .filter((node) => node.cpus.intersects(available))
      .map((node) => ({ node, free: node.cpus.intersect(available) }));
    const fitting = perNode.filter((n) => n.free.size >= left).sort((a, b) => a.free.size - b.free.size || a.node.id - b.node.id);
    const target = fitting[0] ?? perNode.sort((a, b) => b.free.size - a.free.size || a.node.id - b.node.id)[0];
    // A CPU in no node's cpulist (a host whose sysfs disagrees with itself) is still usable: last.
    const take = target ? pickOnFewestL3(topology, target.node, held, target.free, left) : pickByCores(topology, available, left);
    added = added.union(take);
    available = available.difference(take);
  }
}

/**
 * Exactly k CPUs for a service that holds `held` (eligible ones), drawing new ones from `free`:
 * keeps as many held CPUs as k allows (step 1), then adds on the fewest nodes (step 2), or on
 * `node` when every CPU of `free` is on it.
 */
export function placeCount(topology: Topology, held: CpuSet, free: CpuSet, k: number, node?: NumaNode): CpuSet {
  if (held.size >= k) return keepOnFewestNodes(topology, held, k);
  const available = free.difference(held);
  // A request for one node (allocate_numa_cores) skips the node step: its CPUs are all there.
  const added = node ? pickOnFewestL3(topology, node, held, available, k - held.size) : addOnFewestNodes(topology, held, available, k - held.size);
  return held.union(added);
}
