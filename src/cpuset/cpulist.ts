// The kernel's cpulist text format ("0-3,8,10-11"), parsed strictly: a reversed range or junk is
// an error, never silently dropped.
import { CpuSet, MAX_CPUS } from './cpuset.js';

export class CpuListError extends Error {
  constructor(
    readonly input: string,
    readonly detail: string,
  ) {
    super(`invalid cpulist ${JSON.stringify(input)}: ${detail}`);
    this.name = 'CpuListError';
  }
}

const ITEM = /^(\d+)(?:-(\d+))?$/;

/** Parses a cpulist; surrounding whitespace (and the kernel's trailing newline) is tolerated. */
export function parseCpuList(text: string): CpuSet {
  const body = text.trim();
  if (body === '') return CpuSet.EMPTY;
  let result = CpuSet.EMPTY;
  for (const item of body.split(',')) {
    const match = ITEM.exec(item.trim());
    if (!match) throw new CpuListError(text, item.trim() === '' ? 'empty item' : `bad item "${item.trim()}"`);
    const lo = Number(match[1]);
    const hi = match[2] === undefined ? lo : Number(match[2]);
    if (hi >= MAX_CPUS) throw new CpuListError(text, `CPU ${hi} is above the limit of ${MAX_CPUS - 1}`);
    if (hi < lo) throw new CpuListError(text, `reversed range "${item.trim()}"`);
    result = result.union(CpuSet.range(lo, hi));
  }
  return result;
}
