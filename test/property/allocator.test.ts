// Properties of the pure allocator over random hosts and random request sequences. Each step is
// checked against a small model of the methods (which error, how many CPUs) and against the
// invariants every ledger must keep; fast-check prints the seed and the shrunk case of a failure.
import { expect } from 'chai';
import fc from 'fast-check';
import { DomainError } from '../../schema/index.js';
import type { ErrorReason, ResultOf } from '../../schema/index.js';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import type { Ledger, Plan } from '../../src/allocator/index.js';
import { fakeHost } from '../fixtures/host.js';
import type { FakeHostSpec } from '../fixtures/host.js';
import { apply, list, machine, memory, topology } from '../unit/allocator-harness.js';
import type { Machine, Request } from '../unit/allocator-harness.js';
import { ledgerOf, scenario } from './arbitraries.js';

const RUNS = { numRuns: 150 };

type Outcome = { readonly ok: true; readonly plan: Plan<unknown> } | { readonly ok: false; readonly error: DomainError };

function attempt(m: Machine, ledger: Ledger, request: Request): Outcome {
  try {
    return { ok: true, plan: apply(m, ledger, request) };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, error: e };
    throw e;
  }
}

const union = (sets: Iterable<CpuSet>) => [...sets].reduce((a, b) => a.union(b), CpuSet.EMPTY);
const cpusOf = (ledger: Ledger, service: string) => ledger.recordOf(service).cpus;
const explicitOf = (ledger: Ledger, service: string) => ledger.recordOf(service).explicit;

/** Every record's CPUs, recomputed from the records rather than read from the ledger's caches. */
function ownedBy(ledger: Ledger, except?: string): CpuSet {
  return union(ledger.entries().filter(([name]) => name !== except).map(([, r]) => r.cpus));
}

/** The ledger as plain data (without one service), to compare two ledgers. */
function contents(ledger: Ledger, except?: string): unknown {
  return ledger
    .entries()
    .filter(([name]) => name !== except)
    .map(([name, r]) => [name, r.cpus.toString(), r.explicit.toString(), r.hugepages]);
}

/** What the API says a request must do: fail with a reason, or succeed (leaving the service `count` CPUs). */
interface Expected {
  readonly error?: ErrorReason;
  readonly requested?: number;
  readonly available?: number;
  readonly count?: number;
}

function defaultCount(p: number): number {
  return Math.max(1, p <= 100 ? Math.floor(0.8 * p) : p - 16);
}

function automatic(m: Machine, freeFor: number, count: number): Expected {
  if (count === -1) return { count: 0 };
  if (m.host.pool.eligible.isEmpty()) return { error: 'NO_ISOLATED_CPUS' };
  const wanted = count === 0 ? defaultCount(freeFor) : count;
  if (wanted > freeFor) return { error: 'INSUFFICIENT_CPUS', requested: wanted, available: freeFor };
  return { count: wanted };
}

/** Candidates of a NUMA request on the node: pool CPUs there, minus other services' explicit CPUs. */
function numaCandidates(m: Machine, ledger: Ledger, service: string, nodeCpus: CpuSet): CpuSet {
  const othersExplicit = union(ledger.entries().filter(([name]) => name !== service).map(([, r]) => r.explicit));
  return m.host.pool.eligible.intersect(nodeCpus).difference(othersExplicit);
}

function expected(m: Machine, ledger: Ledger, request: Request): Expected {
  const { topology: topo, pool } = m.host;
  const service = request.params.service_name;
  const freeFor = pool.eligible.difference(ownedBy(ledger, service)).size;
  switch (request.method) {
    case 'allocate_cores':
      return automatic(m, freeFor, request.params.num_of_cores);
    case 'allocate_cores_percent': {
      const p = request.params.percent;
      return automatic(m, freeFor, p <= 0 ? -1 : Math.ceil((pool.eligible.size * p) / 100));
    }
    case 'allocate_numa_cores': {
      const { numa_node: id, num_of_cores: n } = request.params;
      if (!topo.numaAvailable) return { error: 'NUMA_TOPOLOGY_UNAVAILABLE' };
      const node = topo.nodes.find((x) => x.id === id);
      if (!node) return { error: 'NUMA_NODE_NOT_FOUND' };
      if (n === -1) return { count: cpusOf(ledger, service).difference(node.cpus).size };
      if (pool.eligible.isEmpty()) return { error: 'NO_ISOLATED_CPUS' };
      const candidates = numaCandidates(m, ledger, service, node.cpus).size;
      if (candidates < n) return { error: 'INSUFFICIENT_CPUS', requested: n, available: candidates };
      return { count: cpusOf(ledger, service).difference(node.cpus).size + n };
    }
    case 'allocate_hugepages': {
      const { node_id, size_kb, hugepages_requested: asked } = request.params;
      const same = (h: { node_id: number; size_kb: number }) => h.node_id === node_id && h.size_kb === size_kb;
      const current = ledger.recordOf(service).hugepages.find(same)?.count ?? 0;
      // A removal succeeds whatever the node and size.
      if (asked === -1) return {};
      if (!topo.nodes.some((x) => x.id === node_id)) return { error: 'NUMA_NODE_NOT_FOUND' };
      const hp = m.hugepages.find(same);
      if (!hp) return { error: 'HUGEPAGE_SIZE_NOT_FOUND' };
      const reserved = ledger.entries().reduce((sum, [, r]) => sum + (r.hugepages.find(same)?.count ?? 0), 0);
      const free = Math.max(0, Math.min(hp.free_kernel, hp.total - reserved));
      if (asked - current > free) return { error: 'INSUFFICIENT_HUGEPAGES', requested: asked - current, available: free };
      return {};
    }
    case 'release_service':
      return { count: 0 };
    case 'explicitly_allocate_cores':
      // Its properties are in allocator-placement-policies.test.ts; this suite never generates it.
      return expect.fail('explicitly_allocate_cores is not generated here');
  }
}

/** The ledger invariants, after any step: one owner per CPU, explicit ⊆ held, held ⊆ pool ∪ stale. */
function checkLedger(m: Machine, start: Ledger, ledger: Ledger): void {
  const eligible = m.host.pool.eligible;
  const sizes = ledger.entries().reduce((sum, [, r]) => sum + r.cpus.size, 0);
  const owned = ownedBy(ledger);
  expect(sizes, 'a CPU has two owners').to.equal(owned.size);
  expect(ledger.owned.equals(owned), 'cached owned set').to.equal(true);
  for (const [name, r] of ledger.entries()) {
    expect(r.explicit.isSubsetOf(r.cpus), `explicit CPUs of ${name} not held`).to.equal(true);
    expect(r.cpus.size + r.hugepages.length, `empty record ${name} kept`).to.be.greaterThan(0);
  }
  for (const cpu of owned.difference(eligible)) {
    expect(start.ownerOf(cpu), `CPU ${cpu} outside the pool handed out`).to.not.equal(undefined);
    expect(ledger.ownerOf(cpu), `stale CPU ${cpu} moved`).to.equal(start.ownerOf(cpu));
  }
}

/** The read views agree with the ledger. */
function checkViews(m: Machine, ledger: Ledger): void {
  const eligible = m.host.pool.eligible;
  const view = list(m, ledger);
  expect(view.total_allocated_cpus).to.equal(ledger.owned.size);
  expect(view.total_available_cpus).to.equal(eligible.size);
  expect(view.remaining_available_cpus).to.equal(eligible.difference(ledger.owned).size);
  expect(view.allocations.map((a) => a.service_name)).to.deep.equal(ledger.entries().map(([name]) => name));
  for (const entry of view.allocations) {
    const r = ledger.recordOf(entry.service_name);
    expect(entry.allocated_cores).to.equal(r.cpus.toString());
    expect(entry.cores_count).to.equal(r.cpus.size);
    expect(entry.stale_cores).to.equal(r.cpus.difference(eligible).toString());
    expect(entry.is_explicit).to.equal(!r.explicit.isEmpty());
  }
  const free = union(topology(m, ledger).numa_nodes.map((n) => parseCpuList(n.free_cpus)));
  expect(free.toString(), 'free CPUs of get_topology').to.equal(eligible.difference(ledger.owned).toString());
  for (const [node, capacity] of Object.entries(memory(m, ledger).numa_hugepages)) {
    for (const c of capacity.capacity) {
      expect(c.free, `free of ${node} ${c.size}`).to.equal(Math.max(0, Math.min(c.free_kernel, c.total - c.reserved)));
    }
  }
}

/** The result of a successful step agrees with the ledgers before and after it. */
function checkResult(m: Machine, before: Ledger, request: Request, plan: Plan<unknown>): void {
  const { next } = plan;
  const eligible = m.host.pool.eligible;
  const service = request.params.service_name;
  const held = cpusOf(before, service);
  const now = cpusOf(next, service);
  const totals = { total_available_cpus: eligible.size, remaining_available_cpus: eligible.difference(next.owned).size };
  for (const [name] of before.entries()) {
    if (name === service) continue;
    expect(explicitOf(before, name).isSubsetOf(explicitOf(next, name)), `explicit CPUs of ${name} taken`).to.equal(true);
  }
  // Only a NUMA request (by preemption) changes another service's record.
  if (request.method !== 'allocate_numa_cores') expect(contents(next, service)).to.deep.equal(contents(before, service));
  switch (request.method) {
    case 'allocate_cores':
    case 'allocate_cores_percent': {
      const r = plan.result as ResultOf<'allocate_cores'> & ResultOf<'allocate_cores_percent'>;
      expect(r).to.deep.include(totals);
      expect(r.allocated_cores).to.equal(now.toString());
      expect(request.method === 'allocate_cores' ? r.cores_allocated : r.cores_allocated_count).to.equal(now.size);
      if (request.method === 'allocate_cores') expect(r.shared_cpus).to.equal(eligible.difference(next.owned).toString());
      expect(now.isSubsetOf(eligible), 'automatic CPUs outside the pool').to.equal(true);
      expect(explicitOf(next, service).isEmpty(), 'automatic allocation left explicit CPUs').to.equal(true);
      checkKeeps(held.intersect(eligible), now);
      if (held.isEmpty() && m.host.topology.numaAvailable) checkFewestNodes(m, before, now);
      break;
    }
    case 'allocate_numa_cores': {
      const r = plan.result as ResultOf<'allocate_numa_cores'>;
      const node = m.host.topology.nodes.find((x) => x.id === request.params.numa_node)!;
      const chosen = now.intersect(node.cpus);
      expect(r).to.deep.include(totals);
      expect(r.cores_allocated).to.equal(chosen.toString());
      expect(now.difference(node.cpus).equals(held.difference(node.cpus)), 'CPUs on other nodes changed').to.equal(true);
      expect(chosen.isSubsetOf(explicitOf(next, service)), 'NUMA CPUs not explicit').to.equal(true);
      expect(chosen.isSubsetOf(eligible), 'NUMA CPUs outside the pool').to.equal(true);
      checkPreempted(m, before, next, request.params.service_name, node.cpus, r.preempted);
      if (request.params.num_of_cores !== -1) checkKeeps(held.intersect(numaCandidates(m, before, service, node.cpus)), chosen);
      break;
    }
    case 'allocate_hugepages': {
      const { node_id, size_kb, hugepages_requested: asked } = request.params;
      const h = next.recordOf(service).hugepages.find((x) => x.node_id === node_id && x.size_kb === size_kb);
      expect(h?.count ?? -1).to.equal(asked);
      expect(now.equals(held), 'hugepage request changed CPUs').to.equal(true);
      break;
    }
    case 'release_service': {
      const r = plan.result as ResultOf<'release_service'>;
      expect(r.released_cores).to.equal(held.toString());
      expect(r.released_hugepages).to.deep.equal(before.recordOf(service).hugepages);
      expect(next.get(service)).to.equal(undefined);
      break;
    }
  }
}

/** Placement step 1: a service keeps every CPU it can (all when growing, only its own when shrinking). */
function checkKeeps(kept: CpuSet, now: CpuSet): void {
  if (now.size >= kept.size) expect(kept.isSubsetOf(now), 'growing dropped a held CPU').to.equal(true);
  else expect(now.isSubsetOf(kept), 'shrinking took a new CPU').to.equal(true);
}

/** Placement step 2: a fresh allocation that fits in one node's free CPUs lands on one node. */
function checkFewestNodes(m: Machine, before: Ledger, now: CpuSet): void {
  const free = m.host.pool.eligible.difference(before.owned);
  const fits = m.host.topology.nodes.some((n) => n.cpus.intersect(free).size >= now.size);
  const used = m.host.topology.nodes.filter((n) => n.cpus.intersects(now)).length;
  if (fits) expect(used, `${now.toString()} spread over nodes`).to.be.at.most(1);
}

/** Preempted lists exactly the CPUs others lost, by service name, and only when free CPUs did not suffice. */
function checkPreempted(
  m: Machine,
  before: Ledger,
  next: Ledger,
  service: string,
  nodeCpus: CpuSet,
  preempted: readonly { service_name: string; cores: string }[],
): void {
  const lost = before
    .entries()
    .filter(([name]) => name !== service)
    .map(([name, r]) => ({ service_name: name, cores: r.cpus.difference(cpusOf(next, name)) }))
    .filter((x) => !x.cores.isEmpty());
  expect(preempted).to.deep.equal(lost.map((x) => ({ service_name: x.service_name, cores: x.cores.toString() })));
  const taken = union(lost.map((x) => x.cores));
  expect(taken.isSubsetOf(nodeCpus), 'preempted off the node').to.equal(true);
  expect(taken.intersects(before.explicitOwned), 'preempted explicit CPUs').to.equal(false);
  const onNodeEligible = m.host.pool.eligible.intersect(nodeCpus);
  const usable = onNodeEligible.difference(before.owned).union(cpusOf(before, service).intersect(onNodeEligible));
  const onNode = cpusOf(next, service).intersect(nodeCpus).size;
  expect(taken.size, 'preempted more than free CPUs left short').to.equal(Math.max(0, onNode - usable.size));
}

/** Runs a scenario on a freshly built host; calls `onStep` after each request with what it did. */
function play(
  spec: FakeHostSpec,
  start: Ledger,
  requests: readonly Request[],
  onStep: (m: Machine, before: Ledger, request: Request, outcome: Outcome) => void,
): Ledger {
  const m = machine(fakeHost(spec));
  let ledger = start;
  for (const request of requests) {
    const snapshot = contents(ledger);
    const outcome = attempt(m, ledger, request);
    // Planning never changes the ledger it is given, whether it succeeds or fails.
    expect(contents(ledger), 'the ledger changed under a request').to.deep.equal(snapshot);
    onStep(m, ledger, request, outcome);
    if (outcome.ok) ledger = outcome.plan.next;
  }
  return ledger;
}

describe('allocator: properties over random hosts and request sequences', () => {
  it('follows the model of the methods at every step and keeps every ledger invariant', () => {
    fc.assert(
      fc.property(scenario, ({ spec, start, requests }) => {
        const first = ledgerOf(start);
        play(spec, first, requests, (m, before, request, outcome) => {
          const want = expected(m, before, request);
          if (!outcome.ok) {
            expect(outcome.error.reason, outcome.error.message).to.equal(want.error);
            if (want.requested !== undefined) {
              expect(outcome.error.data).to.deep.include({ requested: want.requested, available: want.available });
            }
            return;
          }
          expect(want.error, `succeeded where ${want.error} was due`).to.equal(undefined);
          if (want.count !== undefined) expect(cpusOf(outcome.plan.next, request.params.service_name).size).to.equal(want.count);
          checkLedger(m, first, outcome.plan.next);
          checkResult(m, before, request, outcome.plan);
          checkViews(m, outcome.plan.next);
        });
      }),
      RUNS,
    );
  });

  it('gives the same answers for the same host, ledger and requests', () => {
    fc.assert(
      fc.property(scenario, ({ spec, start, requests }) => {
        const transcript = () => {
          const lines: unknown[] = [];
          const last = play(spec, ledgerOf(start), requests, (_m, _before, _request, outcome) => {
            lines.push(outcome.ok ? outcome.plan.result : outcome.error.toJSON());
          });
          return [lines, contents(last)];
        };
        expect(transcript()).to.deep.equal(transcript());
      }),
      RUNS,
    );
  });

  it('a service asking again for what it just got keeps exactly its CPUs and takes none from others', () => {
    fc.assert(
      fc.property(scenario, ({ spec, start, requests }) => {
        play(spec, ledgerOf(start), requests, (m, _before, request, outcome) => {
          if (!outcome.ok || request.method === 'release_service' || request.method === 'allocate_hugepages') return;
          const again = attempt(m, outcome.plan.next, request);
          if (!again.ok) expect.fail(`asking again failed: ${again.error.message}`);
          expect(contents(again.plan.next)).to.deep.equal(contents(outcome.plan.next));
          if (request.method === 'allocate_numa_cores') {
            expect((again.plan.result as ResultOf<'allocate_numa_cores'>).preempted).to.deep.equal([]);
          }
        });
      }),
      RUNS,
    );
  });
});
