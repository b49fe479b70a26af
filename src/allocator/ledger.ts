// The ledger: who holds which CPUs and which hugepage reservations. An immutable value; a change
// makes a new ledger that shares every untouched record with the old one. What every request
// needs (the union of owned CPUs, the owner of a CPU, reserved hugepages per node and size) is
// derived once per ledger, not once per call.
import { CpuSet } from '../cpuset/index.js';
import { DEFAULT_POOL, DEFAULT_THREAD_POLICY, type PoolName, type PreemptionPolicy, type ThreadPolicy } from '../../schema/index.js';

export type { PoolName, PreemptionPolicy, ThreadPolicy };

export interface HugepageReservation {
  readonly node_id: number;
  readonly size_kb: number;
  readonly count: number;
}

export interface ServiceRecord {
  /** Every CPU the service holds, explicit ones included. */
  readonly cpus: CpuSet;
  /** CPUs taken by allocate_numa_cores: no other service's request may take them. ⊆ cpus. */
  readonly explicit: CpuSet;
  /** Meaningful while the service holds CPUs. */
  readonly policy: PreemptionPolicy;
  /** The pool the service's CPUs come from. */
  readonly pool: PoolName;
  /** Meaningful while the service holds CPUs. */
  readonly threadPolicy: ThreadPolicy;
  /**
   * The other threads of the cores an isolate request gave it: held idle for it, so owned (no one
   * else gets them) but not among its CPUs. Disjoint from cpus; empty unless the policy is isolate.
   */
  readonly siblings: CpuSet;
  /** Sorted by node, then size; counts ≥ 1. */
  readonly hugepages: readonly HugepageReservation[];
}

export const EMPTY_RECORD: ServiceRecord = Object.freeze({
  cpus: CpuSet.EMPTY,
  explicit: CpuSet.EMPTY,
  policy: 'legacy',
  pool: DEFAULT_POOL,
  threadPolicy: DEFAULT_THREAD_POLICY,
  siblings: CpuSet.EMPTY,
  hugepages: Object.freeze([]),
});

/** A record that holds nothing is not kept in the ledger. */
function isEmptyRecord(record: ServiceRecord): boolean {
  return record.cpus.isEmpty() && record.hugepages.length === 0;
}

function hugepageKey(nodeId: number, sizeKb: number): string {
  return `${nodeId}:${sizeKb}`;
}

/** A set of service updates: a record replaces the service's, null removes the service. */
export type LedgerChanges = ReadonlyMap<string, ServiceRecord | null>;

/**
 * Records kept as a base map plus a small overlay of recent changes, so a change costs O(changed
 * services), not a copy of every record; the overlay is folded into a new base once it grows.
 */
const OVERLAY_LIMIT = 64;

export class Ledger {
  static readonly EMPTY = new Ledger(new Map(), new Map(), CpuSet.EMPTY, CpuSet.EMPTY, CpuSet.EMPTY, CpuSet.EMPTY, CpuSet.EMPTY, [], new Map(), []);

  private sortedCache: readonly (readonly [string, ServiceRecord])[] | undefined;
  private reservationsCache: readonly HugepageReservation[] | undefined;

  private constructor(
    private readonly base: ReadonlyMap<string, ServiceRecord>,
    /** Newer than base; null marks a removed service. */
    private readonly overlay: ReadonlyMap<string, ServiceRecord | null>,
    /** Union of every service's CPUs and isolated siblings: what no one else may be given. */
    readonly owned: CpuSet,
    /** Union of every service's explicit CPUs. */
    readonly explicitOwned: CpuSet,
    /** Union of the CPUs of services whose policy is non-preemptive. */
    readonly protectedOwned: CpuSet,
    /** Union of the CPUs of services in the general pool; the rest of owned is the default pool's. */
    private readonly generalOwned: CpuSet,
    /** Union of every service's isolated siblings: never handed to anyone, never preempted. */
    readonly siblingsOwned: CpuSet,
    private readonly owners: readonly (string | undefined)[],
    private readonly reservedByKey: ReadonlyMap<string, number>,
    /** The services the change that made this ledger touched (their records may be unchanged). */
    readonly touched: readonly string[],
  ) {}

  /** Builds a ledger from scratch (loading a state file). Fails on a CPU with two owners. */
  static fromRecords(records: Iterable<readonly [string, ServiceRecord]>): Ledger {
    const changes = new Map<string, ServiceRecord | null>();
    for (const [name, record] of records) {
      if (changes.has(name)) throw new Error(`service ${name} appears twice`);
      changes.set(name, record);
    }
    return Ledger.EMPTY.withChanges(changes);
  }

  get(service: string): ServiceRecord | undefined {
    if (this.overlay.has(service)) return this.overlay.get(service) ?? undefined;
    return this.base.get(service);
  }

  recordOf(service: string): ServiceRecord {
    return this.get(service) ?? EMPTY_RECORD;
  }

  /** Every service and its record, sorted by service name; computed once per ledger. */
  entries(): readonly (readonly [string, ServiceRecord])[] {
    if (!this.sortedCache) {
      const all: [string, ServiceRecord][] = [];
      for (const [name, record] of this.base) if (!this.overlay.has(name)) all.push([name, record]);
      for (const [name, record] of this.overlay) if (record) all.push([name, record]);
      all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedCache = all;
    }
    return this.sortedCache;
  }

  get serviceCount(): number {
    return this.entries().length;
  }

  /** The CPUs held by the services of one pool, isolated siblings included. */
  ownedIn(pool: PoolName): CpuSet {
    return pool === DEFAULT_POOL ? this.owned.difference(this.generalOwned) : this.generalOwned;
  }

  /** The service holding cpu, if any. */
  ownerOf(cpu: number): string | undefined {
    return this.owners[cpu];
  }

  /** Sum of every service's reservation for (node, size). */
  reserved(nodeId: number, sizeKb: number): number {
    return this.reservedByKey.get(hugepageKey(nodeId, sizeKb)) ?? 0;
  }

  /** Every service's reservations summed per node and size, sorted by node, then size. */
  reservations(): readonly HugepageReservation[] {
    this.reservationsCache ??= [...this.reservedByKey]
      .map(([key, count]) => {
        const [node_id, size_kb] = key.split(':').map(Number) as [number, number];
        return { node_id, size_kb, count };
      })
      .sort((a, b) => a.node_id - b.node_id || a.size_kb - b.size_kb);
    return this.reservationsCache;
  }

  /**
   * Applies changes and returns the new ledger. Throws when a CPU would have two owners or an
   * explicit CPU is not held: the allocator never asks for that, so it is a bug, not a user error.
   */
  withChanges(changes: LedgerChanges): Ledger {
    if (changes.size === 0) return this;
    let owned = this.owned;
    let explicitOwned = this.explicitOwned;
    let protectedOwned = this.protectedOwned;
    let generalOwned = this.generalOwned;
    let siblingsOwned = this.siblingsOwned;
    const owners = this.owners.slice();
    const reserved = new Map(this.reservedByKey);
    const overlay = new Map(this.overlay);

    for (const name of changes.keys()) {
      const prev = this.get(name);
      if (!prev) continue;
      const held = prev.cpus.union(prev.siblings);
      owned = owned.difference(held);
      explicitOwned = explicitOwned.difference(prev.explicit);
      siblingsOwned = siblingsOwned.difference(prev.siblings);
      if (prev.policy === 'non-preemptive') protectedOwned = protectedOwned.difference(prev.cpus);
      if (prev.pool !== DEFAULT_POOL) generalOwned = generalOwned.difference(held);
      for (const cpu of held) owners[cpu] = undefined;
      for (const h of prev.hugepages) addReserved(reserved, h, -h.count);
    }
    for (const [name, next] of changes) {
      if (next === null || isEmptyRecord(next)) {
        overlay.set(name, null);
        continue;
      }
      if (!next.explicit.isSubsetOf(next.cpus)) throw new Error(`explicit CPUs of ${name} are not all held`);
      if (next.siblings.intersects(next.cpus)) throw new Error(`isolated siblings of ${name} are among its CPUs`);
      const held = next.cpus.union(next.siblings);
      if (owned.intersects(held)) {
        const clash = owned.intersect(held);
        throw new Error(`CPUs ${clash.toString()} would be held by ${name} and by ${owners[clash.first()] ?? 'another service'}`);
      }
      owned = owned.union(held);
      explicitOwned = explicitOwned.union(next.explicit);
      siblingsOwned = siblingsOwned.union(next.siblings);
      if (next.policy === 'non-preemptive') protectedOwned = protectedOwned.union(next.cpus);
      if (next.pool !== DEFAULT_POOL) generalOwned = generalOwned.union(held);
      for (const cpu of held) owners[cpu] = name;
      for (const h of next.hugepages) addReserved(reserved, h, h.count);
      overlay.set(name, next);
    }
    let base = this.base;
    let newOverlay: ReadonlyMap<string, ServiceRecord | null> = overlay;
    if (overlay.size > OVERLAY_LIMIT) {
      const folded = new Map(base);
      for (const [name, record] of overlay) {
        if (record) folded.set(name, record);
        else folded.delete(name);
      }
      base = folded;
      newOverlay = new Map();
    }
    return new Ledger(base, newOverlay, owned, explicitOwned, protectedOwned, generalOwned, siblingsOwned, owners, reserved, [...changes.keys()]);
  }
}

function addReserved(reserved: Map<string, number>, h: HugepageReservation, delta: number): void {
  const key = hugepageKey(h.node_id, h.size_kb);
  const total = (reserved.get(key) ?? 0) + delta;
  if (total === 0) reserved.delete(key);
  else reserved.set(key, total);
}
