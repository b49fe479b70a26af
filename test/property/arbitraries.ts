// fast-check arbitraries for the allocator: random hosts built with the fixture builder, a ledger
// left over from an earlier boot, and random request sequences over every changing method.
import fc from 'fast-check';
import { CpuSet } from '../../src/cpuset/index.js';
import { Ledger } from '../../src/allocator/index.js';
import type { FakeHostSpec, HugepageSpec } from '../fixtures/host.js';
import type { Request } from '../unit/allocator-harness.js';

export const SERVICES = ['a', 'b', 'c', 'old'] as const;
/** Hugepage sizes the hosts may have, and one they never have. */
const HUGEPAGE_SIZES = [2048, 1048576] as const;
const UNKNOWN_SIZE = 4096;

/** How many CPUs a spec describes. */
export function cpuCount(spec: FakeHostSpec): number {
  return spec.nodes * spec.coresPerNode * spec.threads;
}

/** Any subset of 0..n-1, as a cpulist; biased towards large pools, as on real hosts. */
function cpuSubset(n: number): fc.Arbitrary<string> {
  const all = Array.from({ length: n }, (_, i) => i);
  return fc
    .oneof(
      { weight: 5, arbitrary: fc.subarray(all) },
      { weight: 2, arbitrary: fc.subarray(all, { minLength: Math.max(0, n - 2) }) },
      { weight: 1, arbitrary: fc.constant([]) },
    )
    .map((cpus) => CpuSet.from(cpus).toString());
}

function hugepageSpecs(nodes: number): fc.Arbitrary<HugepageSpec[]> {
  const slots = Array.from({ length: nodes }, (_, node) => HUGEPAGE_SIZES.map((sizeKb) => ({ node, sizeKb }))).flat();
  const counts = fc
    .record({ total: fc.nat(40), free: fc.nat(40) })
    .map(({ total, free }) => ({ total, free: Math.min(free, total) }));
  return fc.subarray(slots).chain((chosen) => fc.tuple(...chosen.map((slot) => counts.map((pages) => ({ ...slot, ...pages })))));
}

const rarely = fc.oneof({ weight: 7, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/**
 * A host: 1–4 nodes of 1–8 cores of 1–4 threads, Intel or AMD numbering, a random pool, now and
 * then offline CPUs, no NUMA directories or no sibling lists, random hugepage pools.
 */
export const hostSpec: fc.Arbitrary<FakeHostSpec> = fc
  .record({
    nodes: fc.integer({ min: 1, max: 4 }),
    coresPerNode: fc.integer({ min: 1, max: 8 }),
    threads: fc.integer({ min: 1, max: 4 }),
    siblings: fc.constantFrom('intel' as const, 'amd' as const),
  })
  .chain((shape) => {
    const n = cpuCount(shape);
    return fc
      .record({
        pool: cpuSubset(n),
        online: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: cpuSubset(n).filter((s) => s !== '') },
        ),
        noNumaDirs: rarely,
        noSiblings: rarely,
        hugepages: hugepageSpecs(shape.nodes),
      })
      .map(({ pool, online, noNumaDirs, noSiblings, hugepages }) => ({
        ...shape,
        pool,
        noSiblings,
        ...(online === undefined ? {} : { online }),
        ...(noNumaDirs ? { noNumaDirs } : { hugepages }),
      }));
  });

/** What an earlier boot left: service "old" holding some CPUs of the host, some of them explicit. */
export interface Leftover {
  readonly cpus: readonly number[];
  readonly explicit: readonly number[];
}

export function leftover(spec: FakeHostSpec): fc.Arbitrary<Leftover> {
  const all = Array.from({ length: cpuCount(spec) }, (_, i) => i);
  return fc.subarray(all).chain((cpus) => fc.subarray(cpus).map((explicit) => ({ cpus, explicit })));
}

/** The ledger a leftover describes (empty without one). */
export function ledgerOf(start: Leftover | null): Ledger {
  if (start === null) return Ledger.EMPTY;
  const cpus = CpuSet.from(start.cpus);
  const explicit = CpuSet.from(start.explicit);
  return Ledger.fromRecords([['old', { cpus, explicit, policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY, pool: 'isolated', hugepages: [] }]]);
}

/** 1..max, mostly small: most requests of a sequence should fit, some should not. */
function count(max: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: Math.max(1, Math.ceil(max / 4)) }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max }) },
  );
}

/** One request of any changing method, with counts around the host's sizes and now and then an unknown node or size. */
export function request(spec: FakeHostSpec): fc.Arbitrary<Request> {
  const n = cpuCount(spec);
  const perNode = spec.coresPerNode * spec.threads;
  const service = fc.constantFrom(...SERVICES);
  const node = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: spec.nodes - 1 }) },
    { weight: 1, arbitrary: fc.constant(spec.nodes) },
  );
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...HUGEPAGE_SIZES) },
    { weight: 1, arbitrary: fc.constant(UNKNOWN_SIZE) },
  );
  const orRelease = (counts: fc.Arbitrary<number>) =>
    fc.oneof({ weight: 1, arbitrary: fc.constant(-1) }, { weight: 5, arbitrary: counts });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({ service_name: service, num_of_cores: fc.oneof(fc.constant(0), orRelease(count(n + 1))) })
        .map((params): Request => ({ method: 'allocate_cores', params })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ service_name: service, percent: fc.oneof(fc.constantFrom(-1, 0, 100), fc.integer({ min: 1, max: 60 })) })
        .map((params): Request => ({ method: 'allocate_cores_percent', params })),
    },
    {
      weight: 4,
      arbitrary: fc
        .record({ service_name: service, numa_node: node, num_of_cores: orRelease(count(perNode + 1)) })
        .map((params): Request => ({ method: 'allocate_numa_cores', params })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ service_name: service, node_id: node, size_kb: size, hugepages_requested: orRelease(count(45)) })
        .map((params): Request => ({ method: 'allocate_hugepages', params })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ service_name: service }).map((params): Request => ({ method: 'release_service', params })),
    },
  );
}

/** A host, the ledger it starts from (empty or left over), and up to 30 requests. */
export const scenario = hostSpec.chain((spec) =>
  fc.record({
    spec: fc.constant(spec),
    start: fc.option(leftover(spec), { nil: null, freq: 2 }),
    requests: fc.array(request(spec), { minLength: 1, maxLength: 30, size: 'max' }),
  }),
);
