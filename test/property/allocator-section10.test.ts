// Properties of policies, pools and eligibility over random hosts with a general pool, random
// request sequences that name pools and policies, and CPUs going offline and back between requests
// (as `online` is re-read before every change). Each step is checked against their rules and
// the ledger invariants; fast-check prints the seed and the shrunk case of a failure.
import { expect } from 'chai';
import fc from 'fast-check';
import { DEFAULT_POOL, DomainError } from '../../schema/index.js';
import type { PreemptionPolicy, ResultOf } from '../../schema/index.js';
import { hostView, Ledger } from '../../src/allocator/index.js';
import type { Plan, Pool, ServiceRecord } from '../../src/allocator/index.js';
import { CpuSet } from '../../src/cpuset/index.js';
import type { Topology } from '../../src/topology/index.js';
import { fakeHost, topologyOf } from '../fixtures/host.js';
import type { FakeHost, FakeHostSpec } from '../fixtures/host.js';
import { apply, list } from '../unit/allocator-harness.js';
import type { Machine, Request } from '../unit/allocator-harness.js';
import { hostSpec, request } from './arbitraries.js';

const RUNS = { numRuns: 120 };
const POLICIES = ['legacy', 'non-preemptive'] as const;

const cpuCount = (spec: FakeHostSpec) => spec.nodes * spec.coresPerNode * spec.threads;
const all = (spec: FakeHostSpec) => Array.from({ length: cpuCount(spec) }, (_, i) => i);

/** A step: a request, or the host's `online` file changing to these CPUs. */
type Step = { readonly request: Request } | { readonly online: readonly number[] };

/** Adds what a request may also name: a pool (now and then an unknown one) and a policy. */
function withOptions(base: Request): fc.Arbitrary<Request> {
  const pool = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: fc.constant('general') },
    { weight: 2, arbitrary: fc.constant('isolated') },
    { weight: 1, arbitrary: fc.constant('shared') },
  );
  const policy = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant('non-preemptive' as const) },
    { weight: 1, arbitrary: fc.constant('legacy' as const) },
  );
  const options = fc.record({ pool, preemption_policy: policy }).map(({ pool: p, preemption_policy: pp }) => ({
    ...(p === undefined ? {} : { pool: p }),
    ...(pp === undefined ? {} : { preemption_policy: pp }),
  }));
  switch (base.method) {
    case 'allocate_cores':
      return options.map((o): Request => ({ method: base.method, params: { ...base.params, ...o } }));
    case 'allocate_cores_percent':
      return options.map((o): Request => ({ method: base.method, params: { ...base.params, ...o } }));
    case 'allocate_numa_cores':
      return options.map((o): Request => ({ method: base.method, params: { ...base.params, ...o } }));
    case 'explicitly_allocate_cores':
      return options.map((o): Request => ({ method: base.method, params: { ...base.params, ...o } }));
    case 'release_service':
      return pool.map((p): Request => ({ method: base.method, params: { ...base.params, ...(p === undefined ? {} : { pool: p }) } }));
    case 'allocate_hugepages':
      return fc.constant(base);
  }
}

/** What an earlier boot left: service "old" with some CPUs anywhere, in either pool, of either policy. */
const leftover = (spec: FakeHostSpec) =>
  fc
    .record({
      cpus: fc.subarray(all(spec)),
      policy: fc.constantFrom(...POLICIES),
      pool: fc.constantFrom('isolated' as const, 'general' as const),
      explicitShare: fc.nat(3),
    })
    .map(({ cpus, policy, pool, explicitShare }) => {
      const held = CpuSet.from(cpus);
      if (held.isEmpty()) return Ledger.EMPTY;
      const explicit = CpuSet.from(cpus.filter((_, i) => i % 4 < explicitShare));
      return Ledger.fromRecords([['old', { cpus: held, explicit, policy, threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY, pool, hugepages: [] }]]);
    });

/** A host with a general pool apart from its isolated one, the ledger it starts from, and up to 30 steps. */
const scenario = hostSpec.chain((spec) => {
  const isolated = fakeHost(spec).isolated ?? CpuSet.EMPTY;
  const others = all(spec).filter((cpu) => !isolated.has(cpu));
  const online: fc.Arbitrary<Step> = fc
    .oneof({ weight: 3, arbitrary: fc.subarray(all(spec), { minLength: Math.max(0, cpuCount(spec) - 3) }) }, { weight: 1, arbitrary: fc.subarray(all(spec)) })
    .map((cpus) => ({ online: cpus }));
  const step = fc.oneof({ weight: 8, arbitrary: request(spec).chain(withOptions).map((r): Step => ({ request: r })) }, { weight: 1, arbitrary: online });
  return fc.record({
    spec: fc.constant(spec),
    general: fc.subarray(others).map((cpus) => CpuSet.from(cpus)),
    start: fc.oneof({ weight: 1, arbitrary: fc.constant(Ledger.EMPTY) }, { weight: 2, arbitrary: leftover(spec) }),
    steps: fc.array(step, { minLength: 1, maxLength: 30, size: 'max' }),
  });
});

type Outcome = { readonly ok: true; readonly plan: Plan<unknown> } | { readonly ok: false; readonly error: DomainError };

function attempt(m: Machine, ledger: Ledger, r: Request): Outcome {
  try {
    return { ok: true, plan: apply(m, ledger, r) };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, error: e };
    throw e;
  }
}

function machineOf(desc: FakeHost, topology: Topology, general: CpuSet, online?: CpuSet): Machine {
  return { host: hostView(topology, { general, ...(online ? { online } : {}) }), hugepages: desc.hugepages };
}

const contents = (ledger: Ledger) =>
  ledger.entries().map(([name, r]) => [name, r.cpus.toString(), r.explicit.toString(), r.policy, r.pool, r.hugepages]);

/** The pool a request names (the default when it names none), or undefined for release/hugepage requests without one. */
function namedPool(r: Request): string {
  return 'pool' in r.params && r.params.pool !== undefined ? r.params.pool : DEFAULT_POOL;
}
function askedPolicy(r: Request): PreemptionPolicy | undefined {
  return 'preemption_policy' in r.params ? r.params.preemption_policy : undefined;
}
const holds = (r: ServiceRecord) => !r.cpus.isEmpty();
const isProtected = (r: ServiceRecord) => holds(r) && r.policy === 'non-preemptive';

/** Whether the request releases CPUs (and takes none), and whether the service ends up with none. */
function releaseOf(m: Machine, r: Request, record: ServiceRecord): { releases: boolean; full: boolean } {
  switch (r.method) {
    case 'allocate_cores':
      return { releases: r.params.num_of_cores === -1, full: r.params.num_of_cores === -1 };
    case 'allocate_cores_percent':
      return { releases: r.params.percent <= 0, full: r.params.percent <= 0 };
    case 'allocate_numa_cores': {
      const node = m.host.topology.nodes.find((n) => n.id === r.params.numa_node);
      const releases = r.params.num_of_cores === -1;
      return { releases, full: releases && node !== undefined && record.cpus.isSubsetOf(node.cpus) };
    }
    case 'release_service':
      return { releases: true, full: true };
    case 'explicitly_allocate_cores':
    case 'allocate_hugepages':
      return { releases: false, full: false };
  }
}

/** The service's CPUs a (non-release) request would drop, that are no longer eligible in its pool. */
function ineligibleDropped(m: Machine, r: Request, record: ServiceRecord): CpuSet {
  const pool = m.host.pools.get(record.pool);
  const stale = pool ? record.cpus.difference(pool.eligible) : record.cpus;
  if (r.method === 'allocate_numa_cores') {
    const node = m.host.topology.nodes.find((n) => n.id === r.params.numa_node);
    return node ? stale.intersect(node.cpus) : CpuSet.EMPTY;
  }
  return stale;
}

/** Section 10's errors: each reason only when its rule applies, and a rule that applies always fails the request. */
function checkErrors(m: Machine, before: Ledger, r: Request, outcome: Outcome): void {
  if (r.method === 'allocate_hugepages') return;
  const record = before.recordOf(r.params.service_name);
  const named = namedPool(r);
  const known = m.host.pools.has(named as Pool['name']);
  const otherPool = known && holds(record) && record.pool !== named;
  const { releases, full } = releaseOf(m, r, record);
  const policyConflict = askedPolicy(r) === 'legacy' && isProtected(record) && !full;
  const unavailable = isProtected(record) && !releases && !ineligibleDropped(m, r, record).isEmpty();
  const rules = { POOL_NOT_FOUND: !known, POOL_CONFLICT: otherPool, POLICY_CONFLICT: policyConflict, CPUS_UNAVAILABLE: unavailable };
  if (!outcome.ok) {
    const reason = outcome.error.reason;
    if (reason in rules) expect(rules[reason as keyof typeof rules], `${reason} where its rule does not apply`).to.equal(true);
    return;
  }
  for (const [reason, applies] of Object.entries(rules)) expect(applies, `succeeded where ${reason} applies`).to.equal(false);
}

/** Every CPU has one owner; CPUs outside the owner's eligible pool are ones it already held. */
function checkLedger(m: Machine, before: Ledger, after: Ledger): void {
  const sizes = after.entries().reduce((sum, [, r]) => sum + r.cpus.size, 0);
  expect(sizes, 'a CPU has two owners').to.equal(after.owned.size);
  for (const [name, r] of after.entries()) {
    expect(r.explicit.isSubsetOf(r.cpus), `explicit CPUs of ${name} not held`).to.equal(true);
    const pool = m.host.pools.get(r.pool);
    const stale = pool ? r.cpus.difference(pool.eligible) : r.cpus;
    expect(stale.isSubsetOf(before.recordOf(name).cpus), `${name} got CPUs outside its pool: ${stale.toString()}`).to.equal(true);
    if (!stale.isEmpty()) expect(before.recordOf(name).pool, `${name} changed pool while holding stale CPUs`).to.equal(r.pool);
  }
}

/** What a successful request did to its own service and to everyone else. */
function checkSuccess(m: Machine, before: Ledger, r: Request, plan: Plan<unknown>): void {
  const { next } = plan;
  const service = r.params.service_name;
  const was = before.recordOf(service);
  const now = next.recordOf(service);
  for (const [name, prev] of before.entries()) {
    if (name === service) continue;
    const after = next.recordOf(name);
    // A protected service's CPUs change only by its own request.
    if (isProtected(prev)) expect(after.cpus.equals(prev.cpus), `protected ${name} lost CPUs to ${service}`).to.equal(true);
    if (holds(after)) expect([after.policy, after.pool], `${name} changed policy or pool`).to.deep.equal([prev.policy, prev.pool]);
    const lost = prev.cpus.difference(after.cpus);
    if (lost.isEmpty()) continue;
    // Only a legacy NUMA request of the same pool preempts: automatic CPUs of legacy services there.
    expect(r.method, `${name} lost CPUs to a ${r.method}`).to.equal('allocate_numa_cores');
    expect(now.policy, `a non-preemptive request took CPUs of ${name}`).to.equal('legacy');
    expect(prev.pool, `CPUs of ${name} taken across pools`).to.equal(now.pool);
    expect(lost.intersects(prev.explicit), `explicit CPUs of ${name} taken`).to.equal(false);
  }
  if (r.method === 'allocate_hugepages' || r.method === 'release_service') return;

  const pool = m.host.pools.get(namedPool(r) as Pool['name'])!;
  if (holds(now)) {
    expect(now.pool).to.equal(pool.name);
    expect(now.policy).to.equal(askedPolicy(r) ?? (holds(was) ? was.policy : 'legacy'));
  }
  const result = plan.result as ResultOf<'allocate_cores'>;
  expect(result).to.deep.include({
    preemption_policy: holds(now) ? now.policy : null,
    pool: pool.name,
    total_available_cpus: pool.eligible.size,
    remaining_available_cpus: pool.eligible.difference(next.owned).size,
  });
}

/** list_allocations of each pool agrees with the ledger. */
function checkViews(m: Machine, ledger: Ledger): void {
  for (const pool of m.host.pools.values()) {
    const view = list(m, ledger, pool.name);
    const listed = ledger.entries().filter(([, r]) => r.pool === pool.name);
    const held = listed.reduce((set, [, r]) => set.union(r.cpus), CpuSet.EMPTY);
    expect(view.allocations.map((a) => a.service_name)).to.deep.equal(listed.map(([name]) => name));
    for (const entry of view.allocations) {
      const r = ledger.recordOf(entry.service_name);
      expect(entry).to.deep.include({
        stale_cores: r.cpus.difference(pool.eligible).toString(),
        preemption_policy: holds(r) ? r.policy : null,
        pool: pool.name,
      });
    }
    expect(view).to.deep.include({
      total_allocated_cpus: held.size,
      total_available_cpus: pool.eligible.size,
      remaining_available_cpus: pool.eligible.difference(ledger.owned).size,
      supported_cpu_features: ['non-preemptive-allocations', 'cpu-pools'],
    });
    expect(view.cpu_pool).to.deep.equal({
      name: pool.name,
      source: pool.name === 'general' ? 'configured' : pool.source,
      configured_cpus: pool.configured.toString(),
      eligible_cpus: pool.eligible.toString(),
      unavailable_allocated_cpus: held.difference(pool.eligible).toString(),
      unavailable_reason: null,
    });
  }
}

interface Scenario {
  readonly spec: FakeHostSpec;
  readonly general: CpuSet;
  readonly start: Ledger;
  readonly steps: readonly Step[];
}

/** Runs the steps; `onStep` sees each request with the host of that moment and what it did. */
function play(s: Scenario, onStep: (m: Machine, before: Ledger, r: Request, outcome: Outcome) => void): Ledger {
  const desc = fakeHost(s.spec);
  const topology = topologyOf(desc);
  let m = machineOf(desc, topology, s.general);
  let ledger = s.start;
  for (const step of s.steps) {
    if ('online' in step) {
      m = machineOf(desc, topology, s.general, CpuSet.from(step.online));
      continue;
    }
    const snapshot = contents(ledger);
    const outcome = attempt(m, ledger, step.request);
    expect(contents(ledger), 'the ledger changed under a request').to.deep.equal(snapshot);
    onStep(m, ledger, step.request, outcome);
    if (outcome.ok) ledger = outcome.plan.next;
  }
  return ledger;
}

describe('allocator: properties of policies, pools and eligibility over random hosts and online changes', () => {
  it('follows the rules of policies, pools and eligibility at every step, and keeps every invariant', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        play(s, (m, before, r, outcome) => {
          checkErrors(m, before, r, outcome);
          if (!outcome.ok) return;
          checkLedger(m, before, outcome.plan.next);
          checkSuccess(m, before, r, outcome.plan);
          checkViews(m, outcome.plan.next);
        });
      }),
      RUNS,
    );
  });

  it('gives the same answers for the same steps', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const transcript = () => {
          const lines: unknown[] = [];
          const last = play(s, (_m, _before, _r, outcome) => lines.push(outcome.ok ? outcome.plan.result : outcome.error.toJSON()));
          return [lines, contents(last)];
        };
        expect(transcript()).to.deep.equal(transcript());
      }),
      RUNS,
    );
  });

  it('a service asking again for what it just got keeps exactly its CPUs and takes none from others', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        play(s, (m, _before, r, outcome) => {
          if (!outcome.ok || r.method === 'release_service' || r.method === 'allocate_hugepages') return;
          const again = attempt(m, outcome.plan.next, r);
          if (!again.ok) expect.fail(`asking again failed: ${again.error.message}`);
          expect(contents(again.plan.next)).to.deep.equal(contents(outcome.plan.next));
        });
      }),
      RUNS,
    );
  });
});
