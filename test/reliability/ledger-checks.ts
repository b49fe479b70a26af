// What must hold of every state file, whatever happened before it was written, and the check that
// a daemon serves exactly what its file holds. Each returns a list of violations (empty: fine), so
// the soak run can count them as well as the tests assert them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListAllocationsResult } from '../../schema/index.js';
import { Ledger } from '../../src/allocator/index.js';
import type { CpuSet } from '../../src/cpuset/index.js';
import { LOCK_FILE, STATE_FILE, decodeState } from '../../src/state/index.js';

/** Each CPU has one owner, explicit CPUs are held, and every CPU comes from the pool. */
export function ledgerViolations(ledger: Ledger, pool: CpuSet): string[] {
  const problems: string[] = [];
  let sizes = 0;
  for (const [name, record] of ledger.entries()) {
    sizes += record.cpus.size;
    if (!record.explicit.isSubsetOf(record.cpus)) {
      problems.push(`${name}: explicit ${record.explicit.toString()} not within its CPUs ${record.cpus.toString()}`);
    }
    if (!record.cpus.isSubsetOf(pool)) problems.push(`${name}: CPUs ${record.cpus.difference(pool).toString()} outside the pool`);
  }
  if (sizes !== ledger.owned.size) problems.push(`CPU counts add up to ${sizes}, but ${ledger.owned.size} CPUs are owned: a CPU has two owners`);
  return problems;
}

/** The ledger in the state dir's file (empty without one), or the reason it cannot be read. */
export async function readLedger(stateDir: string): Promise<{ ledger: Ledger } | { problem: string }> {
  const path = join(stateDir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ledger: Ledger.EMPTY };
    return { problem: `cannot read ${path}: ${(error as Error).message}` };
  }
  try {
    return { ledger: decodeState(text, path) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** The ledger as comparable text: every record's CPUs, explicit CPUs, policy, pool and hugepages. */
export function ledgerText(ledger: Ledger): string {
  return JSON.stringify(
    ledger.entries().map(([name, r]) => [name, r.cpus.toString(), r.explicit.toString(), r.policy, r.pool, r.hugepages]),
  );
}

/** Files in the state dir other than the state file and its lock (a temp file left behind, say). */
export async function strayFiles(stateDir: string): Promise<string[]> {
  return (await readdir(stateDir)).filter((name) => name !== STATE_FILE && name !== LOCK_FILE);
}

/** Where list_allocations disagrees with the ledger (service set, CPUs, explicit CPUs, hugepages, totals). */
export function listingViolations(listed: ListAllocationsResult, ledger: Ledger): string[] {
  const problems: string[] = [];
  const expected = ledger.entries().map(([name, r]) => ({
    service_name: name,
    allocated_cores: r.cpus.toString(),
    explicit_cores: r.explicit.toString(),
    hugepages: r.hugepages.map((h) => ({ node_id: h.node_id, size_kb: h.size_kb, count: h.count })),
  }));
  const actual = listed.allocations.map((a) => ({
    service_name: a.service_name,
    allocated_cores: a.allocated_cores,
    explicit_cores: a.explicit_cores,
    hugepages: a.hugepages.map((h) => ({ node_id: h.node_id, size_kb: h.size_kb, count: h.count })),
  }));
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    problems.push(`list_allocations ${JSON.stringify(actual)} differs from the state file ${JSON.stringify(expected)}`);
  }
  if (listed.total_allocated_cpus !== ledger.owned.size) {
    problems.push(`total_allocated_cpus ${listed.total_allocated_cpus}, but the file holds ${ledger.owned.size} CPUs`);
  }
  return problems;
}
