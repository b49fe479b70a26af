// Section 1: the pure allocator, in process. Each figure starts from the same prepared ledger and
// carries its own changes forward, as the daemon does between requests.
import { allocateCores, allocateHugepages, allocateNumaCores, explicitlyAllocateCores, listAllocations } from '../src/allocator/index.js';
import type { HostView, Ledger, ThreadPolicy } from '../src/allocator/index.js';
import { CpuSet } from '../src/cpuset/index.js';
import { decodeState, encodeState } from '../src/state/index.js';
import type { Plan } from './plan.js';
import { collect, timeNs, type Budget, type Timing } from './stats.js';
import { SMALL_PAGE_KB, syntheticHost, syntheticLedger, type SyntheticHost } from './synthetic.js';

export interface AllocatorRow {
  readonly cpus: number;
  readonly nodes: number;
  readonly services: number;
  readonly cpu_holders: number;
  readonly state_bytes: number;
  /** A service asking again and again for 4, then 8 CPUs (grows, then shrinks). */
  readonly allocate_cores: Timing;
  /** A service asking again and again for 2, then 4 CPUs of the last node. */
  readonly allocate_numa_cores: Timing;
  /** The first list_allocations on a ledger just changed (a hugepage reservation toggled). */
  readonly list_cold: Timing;
  /** list_allocations again on the same ledger: the memoised answer. */
  readonly list_warm: Timing;
  /** decodeState of the encoded state file: what a daemon start costs. */
  readonly reload: Timing;
  /** encodeState of the ledger: what every durable write costs before its fsync. */
  readonly encode: Timing;
}

/** Figures of the hosts with L3 domains: allocate_cores under each thread policy, and explicit CPUs. */
export interface PolicyRow {
  readonly cpus: number;
  readonly nodes: number;
  readonly l3_per_node: number;
  readonly services: number;
  readonly cpu_holders: number;
  /** allocate_cores as in AllocatorRow, under cpu_thread_policy prefer, require and isolate. */
  readonly allocate_cores: Timing;
  readonly allocate_cores_require: Timing;
  readonly allocate_cores_isolate: Timing;
  /** As in AllocatorRow. */
  readonly allocate_numa_cores: Timing;
  /** A service asking again and again for 2, then 4 whole free cores of the last node, by cpulist. */
  readonly explicitly_allocate_cores: Timing;
}

/** A figure's sampler: each call times one step and moves its own ledger on. */
function stepper(start: Ledger, step: (ledger: Ledger, i: number) => Ledger): () => number {
  let ledger = start;
  let i = 0;
  return () => timeNs(() => (ledger = step(ledger, i++)));
}

/** allocate_cores: one service asking for 4, then 8 CPUs, again and again (grows, then shrinks). */
function coresFigure(host: HostView, ledger: Ledger, budget: Budget, policy: ThreadPolicy): Timing {
  const service_name = `bench-${policy}`;
  return collect(
    budget,
    stepper(ledger, (l, i) => allocateCores(host, l, { service_name, num_of_cores: i % 2 === 0 ? 4 : 8, cpu_thread_policy: policy }).next),
  );
}

/** allocate_numa_cores: one service asking for 2, then 4 CPUs of the last node. */
function numaFigure(host: HostView, ledger: Ledger, budget: Budget): Timing {
  const numa_node = host.topology.nodes.length - 1;
  return collect(
    budget,
    stepper(ledger, (l, i) => allocateNumaCores(host, l, { service_name: 'bench-numa', numa_node, num_of_cores: i % 2 === 0 ? 2 : 4 }).next),
  );
}

/** explicitly_allocate_cores: one service asking for the first 2, then the first 4 whole free cores of the last node. */
function explicitFigure(host: HostView, ledger: Ledger, budget: Budget): Timing {
  const { topology, pool } = host;
  const last = topology.nodes[topology.nodes.length - 1]!.id;
  const free = pool.eligible.difference(ledger.owned);
  const whole = topology.cores.filter((core) => core.node === last && core.threads.isSubsetOf(free));
  const request = (n: number) => whole.slice(0, n).reduce((cpus, core) => cpus.union(core.threads), CpuSet.EMPTY).toString();
  const lists = [request(2), request(4)];
  return collect(
    budget,
    stepper(ledger, (l, i) => explicitlyAllocateCores(host, l, { service_name: 'bench-explicit', cores_requested: lists[i % 2]! }).next),
  );
}

function measure(target: SyntheticHost, services: number, plan: Plan): AllocatorRow {
  const { host, pools, shape } = target;
  const { ledger, cpuHolders } = syntheticLedger(target, { services, heldShare: 0.5 });
  const { fast, slow } = plan.budget;

  const allocate_cores = coresFigure(host, ledger, fast, 'prefer');
  const allocate_numa_cores = numaFigure(host, ledger, fast);

  let changed = ledger;
  let toggle = 0;
  const list_cold = collect(fast, () => {
    const params = { service_name: 'bench-list', node_id: 0, size_kb: SMALL_PAGE_KB, hugepages_requested: 1 + (toggle++ % 2) };
    changed = allocateHugepages(host, changed, pools, params).next;
    const next = changed;
    return timeNs(() => listAllocations(next, host));
  });
  listAllocations(ledger, host);
  const list_warm = collect(fast, () => timeNs(() => listAllocations(ledger, host)));

  const text = encodeState(ledger, new Date());
  const reload = collect(slow, () => timeNs(() => decodeState(text, 'state.json')));
  const encode = collect(slow, () => timeNs(() => encodeState(ledger, new Date())));

  return {
    cpus: shape.cpus,
    nodes: shape.nodes,
    services,
    cpu_holders: cpuHolders,
    state_bytes: Buffer.byteLength(text),
    allocate_cores,
    allocate_numa_cores,
    list_cold,
    list_warm,
    reload,
    encode,
  };
}

function measurePolicies(target: SyntheticHost, services: number, plan: Plan): PolicyRow {
  const { host, shape } = target;
  const { ledger, cpuHolders } = syntheticLedger(target, { services, heldShare: 0.5 });
  const { fast } = plan.budget;
  return {
    cpus: shape.cpus,
    nodes: shape.nodes,
    l3_per_node: shape.l3PerNode ?? 1,
    services,
    cpu_holders: cpuHolders,
    allocate_cores: coresFigure(host, ledger, fast, 'prefer'),
    allocate_cores_require: coresFigure(host, ledger, fast, 'require'),
    allocate_cores_isolate: coresFigure(host, ledger, fast, 'isolate'),
    allocate_numa_cores: numaFigure(host, ledger, fast),
    explicitly_allocate_cores: explicitFigure(host, ledger, fast),
  };
}

/** Every host with L3 domains × service count of the plan; onRow sees each row as soon as it is measured. */
export function benchPolicies(plan: Plan, onRow: (row: PolicyRow) => void = () => undefined): PolicyRow[] {
  return plan.l3Hosts.flatMap((shape) => {
    const target = syntheticHost(shape);
    return plan.services.map((services) => {
      const row = measurePolicies(target, services, plan);
      onRow(row);
      return row;
    });
  });
}

/** Every host × service count of the plan; onRow sees each row as soon as it is measured. */
export function benchAllocator(plan: Plan, onRow: (row: AllocatorRow) => void = () => undefined): AllocatorRow[] {
  const rows: AllocatorRow[] = [];
  for (const shape of plan.hosts) {
    const target = syntheticHost(shape);
    for (const services of plan.services) {
      const row = measure(target, services, plan);
      rows.push(row);
      onRow(row);
    }
  }
  return rows;
}
