// The thread policies (README.md, "Placement for latency-sensitive services"): Nova's hw:cpu_thread_policy for the host's
// services. "prefer" is placement as it always was; "require" and "isolate" place over whole
// physical cores only, with the same node and L3 steps.
import { CpuSet } from '../cpuset/index.js';
import { DomainErrors, type ThreadPolicy } from '../../schema/index.js';
import type { NumaNode, Topology } from '../topology/index.js';
import { Memo } from '../memo/index.js';
import { placeCount } from './placement.js';

/**
 * The cores of a topology grouped by the shape of their thread numbering: the offsets of the
 * other threads from the lowest one (+16 on Intel-style numbering, +1 on AMD-style). A regular
 * host has one shape, so which cores are whole is a few shifted intersections of bitmaps, not a
 * walk over every core. Made once per topology.
 */
interface CoreShape {
  /** The lowest thread (the id) of every core of this shape. */
  readonly ids: CpuSet;
  readonly offsets: readonly number[];
}

const shapes = new Memo<[Topology], { readonly list: readonly CoreShape[] }>();

function coreShapes(topology: Topology): readonly CoreShape[] {
  return shapes.get([topology], () => {
    const byShape = new Map<string, { ids: number[]; offsets: number[] }>();
    for (const core of topology.cores) {
      const offsets = core.threadList.slice(1).map((t) => t - core.id);
      const key = offsets.join(',');
      const shape = byShape.get(key);
      if (shape) shape.ids.push(core.id);
      else byShape.set(key, { ids: [core.id], offsets });
    }
    return { list: [...byShape.values()].map(({ ids, offsets }) => ({ ids: CpuSet.from(ids), offsets })) };
  }).list;
}

/** The cores all of whose threads are in `allowed`: their ids (lowest threads), and every thread of them. */
function wholeCores(topology: Topology, allowed: CpuSet): { readonly ids: CpuSet; readonly cpus: CpuSet } {
  let ids = CpuSet.EMPTY;
  let cpus = CpuSet.EMPTY;
  for (const shape of coreShapes(topology)) {
    let whole = shape.ids.intersect(allowed);
    for (const offset of shape.offsets) whole = whole.intersect(allowed.shifted(-offset));
    if (whole.isEmpty()) continue;
    ids = ids.union(whole);
    cpus = cpus.union(whole);
    for (const offset of shape.offsets) cpus = cpus.union(whole.shifted(offset));
  }
  return { ids, cpus };
}

/** What a policy places: the service's CPUs, and the idle siblings held for it (isolate). */
export interface Placed {
  readonly cpus: CpuSet;
  readonly siblings: CpuSet;
}

/**
 * The default share (`num_of_cores: 0`) under a policy, from the free pool's size: isolate counts
 * whole cores (one CPU each), require rounds down to whole cores.
 */
export function shareUnder(policy: ThreadPolicy, topology: Topology, free: CpuSet, share: (p: number) => number): number {
  if (policy === 'prefer') return share(free.size);
  const whole = wholeCores(topology, free);
  if (policy === 'isolate') return share(whole.ids.size);
  // Rounded to the size of a whole core (hosts have one core size, or cores with offline threads).
  const threads = topology.coreOf(whole.ids.first())?.threadList.length ?? 1;
  return Math.max(threads, Math.floor(share(whole.cpus.size) / threads) * threads);
}

/**
 * Exactly k CPUs for a service that holds `held`, from `allowed` (free CPUs and its own; held ⊆
 * allowed, all on `node` when given), under a thread policy. Throws INSUFFICIENT_CPUS (with
 * whole_cores_available) when require or isolate cannot be met.
 */
export function placeUnder(policy: ThreadPolicy, topology: Topology, held: CpuSet, allowed: CpuSet, k: number, node?: NumaNode): Placed {
  if (policy === 'prefer') return { cpus: placeCount(topology, held, allowed, k, node), siblings: CpuSet.EMPTY };
  const { ids, cpus: whole } = wholeCores(topology, allowed);
  if (policy === 'require') {
    const refuse = () => DomainErrors.insufficientWholeCores(k, ids.size, whole.size, policy);
    if (k > whole.size) throw refuse();
    // What it keeps is counted in whole cores: a core it holds part of (an isolate core, whose
    // sibling was idle) is kept whole, so keeping never splits a core.
    const kept: number[] = [];
    for (const cpu of held) {
      const core = topology.coreOf(cpu);
      if (core !== undefined && ids.has(core.id)) kept.push(...core.threadList);
    }
    const cpus = placeCount(topology, CpuSet.from(kept), whole, k, node);
    // Whole cores are taken while they fit, so only a count no set of whole cores adds up to splits one.
    for (const cpu of cpus) if (!topology.coreOf(cpu)!.threadList.every((t) => cpus.has(t))) throw refuse();
    return { cpus, siblings: CpuSet.EMPTY };
  }
  if (k > ids.size) throw DomainErrors.insufficientWholeCores(k, ids.size, whole.size, policy);
  // One thread stands for each whole core (the one the service runs on already, if any), so the
  // node and L3 steps choose among cores; the other threads become its idle siblings.
  let standIns = ids;
  for (const cpu of held) {
    const core = topology.coreOf(cpu);
    if (core !== undefined && cpu !== core.id && standIns.has(core.id)) standIns = standIns.difference(CpuSet.of(core.id)).union(CpuSet.of(cpu));
  }
  const cpus = placeCount(topology, held.intersect(standIns), standIns, k, node);
  const siblings: number[] = [];
  for (const cpu of cpus) for (const t of topology.coreOf(cpu)!.threadList) if (t !== cpu) siblings.push(t);
  return { cpus, siblings: CpuSet.from(siblings) };
}
