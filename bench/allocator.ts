// Section 1: the pure allocator, in process. Each figure starts from the same prepared ledger and
// carries its own changes forward, as the daemon does between requests.
import { allocateCores, allocateHugepages, allocateNumaCores, listAllocations } from '../src/allocator/index.js';
import type { Ledger } from '../src/allocator/index.js';
import { decodeState, encodeState } from '../src/state/index.js';
import type { Plan } from './plan.js';
import { collect, timeNs, type Timing } from './stats.js';
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

/** A figure's sampler: each call times one step and moves its own ledger on. */
function stepper(start: Ledger, step: (ledger: Ledger, i: number) => Ledger): () => number {
  let ledger = start;
  let i = 0;
  return () => timeNs(() => (ledger = step(ledger, i++)));
}

function measure(target: SyntheticHost, services: number, plan: Plan): AllocatorRow {
  const { host, pools, shape } = target;
  const { ledger, cpuHolders } = syntheticLedger(target, { services, heldShare: 0.5 });
  const lastNode = host.topology.nodes.length - 1;
  const { fast, slow } = plan.budget;

  const allocate_cores = collect(
    fast,
    stepper(ledger, (l, i) => allocateCores(host, l, { service_name: 'bench-auto', num_of_cores: i % 2 === 0 ? 4 : 8 }).next),
  );
  const allocate_numa_cores = collect(
    fast,
    stepper(
      ledger,
      (l, i) => allocateNumaCores(host, l, { service_name: 'bench-numa', numa_node: lastNode, num_of_cores: i % 2 === 0 ? 2 : 4 }).next,
    ),
  );

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
