// Whether a general pool can be used: what `serve` checks before offering one
// and what `check-pool` (the snap's configure hook) checks before the option is committed. Pure.
import type { CpuSet } from '../cpuset/index.js';
import type { Ledger } from './ledger.js';

export interface GeneralPoolFacts {
  /** The isolated pool (the kernel's list, or --cpu-pool). */
  readonly isolated: CpuSet;
  /** devices/system/cpu/present; null when the host does not say. */
  readonly present: CpuSet | null;
}

/** Why `general` cannot be a pool beside the isolated one, or undefined when it can. */
export function generalPoolProblem(general: CpuSet, facts: GeneralPoolFacts): string | undefined {
  const absent = facts.present === null ? undefined : general.difference(facts.present);
  if (absent !== undefined && !absent.isEmpty()) return `CPUs ${absent.toString()} are not present on this host`;
  const shared = general.intersect(facts.isolated);
  if (!shared.isEmpty()) return `it overlaps the isolated pool on CPUs ${shared.toString()}`;
  return undefined;
}

/**
 * A new general pool (undefined: none) may not leave out CPUs that services of the general pool
 * hold, offline ones included: they would lose the pool their CPUs came from.
 */
export function leftOutProblem(general: CpuSet | undefined, ledger: Ledger): string | undefined {
  const held = ledger.ownedIn('general');
  const left = general === undefined ? held : held.difference(general);
  if (left.isEmpty()) return undefined;
  const owners = [...new Set(left.toArray().map((cpu) => ledger.ownerOf(cpu)))].sort();
  return `it leaves out CPUs ${left.toString()}, held in the general pool by ${owners.join(', ')}; release them first`;
}
