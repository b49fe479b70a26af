// Shared by the state tests: ledgers built from cpulists, ledgers compared as plain data, temp
// state dirs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../../src/allocator/index.js';
import type { HugepageReservation, PoolName, PreemptionPolicy, ServiceRecord, ThreadPolicy } from '../../src/allocator/index.js';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';

export interface RecordSpec {
  explicit?: string;
  policy?: PreemptionPolicy;
  pool?: PoolName;
  threadPolicy?: ThreadPolicy;
  siblings?: string;
  hugepages?: HugepageReservation[];
}

export function record(cpus: string, spec: RecordSpec = {}): ServiceRecord {
  return {
    cpus: parseCpuList(cpus),
    explicit: spec.explicit === undefined ? CpuSet.EMPTY : parseCpuList(spec.explicit),
    policy: spec.policy ?? 'legacy',
    pool: spec.pool ?? 'isolated',
    threadPolicy: spec.threadPolicy ?? 'prefer',
    siblings: spec.siblings === undefined ? CpuSet.EMPTY : parseCpuList(spec.siblings),
    hugepages: spec.hugepages ?? [],
  };
}

export function ledgerOf(records: Record<string, ServiceRecord>): Ledger {
  return Ledger.fromRecords(Object.entries(records));
}

/** A ledger as plain data, for deep equality: every service and every field of its record. */
export function plain(ledger: Ledger) {
  return ledger.entries().map(([name, r]) => ({
    name,
    cpus: r.cpus.toString(),
    explicit: r.explicit.toString(),
    policy: r.policy,
    pool: r.pool,
    threadPolicy: r.threadPolicy,
    siblings: r.siblings.toString(),
    hugepages: r.hugepages.map(({ node_id, size_kb, count }) => ({ node_id, size_kb, count })),
  }));
}

/** The plan of an update that adds (or replaces) one service. */
export const put = (name: string, rec: ServiceRecord) => (current: Ledger) => ({
  next: current.withChanges(new Map([[name, rec]])),
  result: name,
});

/** A temp dir per test; `cleanup` removes them all. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'epa-state-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
