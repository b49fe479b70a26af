// Many clients, each changing its own service at random, and a model of what each service must
// hold: the state after its last acknowledged change, or, while a change is unanswered (the
// daemon died under it), possibly the state after that one. The host is large enough that no
// request ever needs another service's CPUs (no preemption, no shortage), so one service's
// state depends on its own requests only and the model can be exact.
import type { MethodName, ParamsOf } from '../../schema/index.js';
import type { ServiceRecord } from '../../src/allocator/index.js';
import { EpaError, type EpaClient } from '../../src/client/index.js';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import { fakeHost } from '../fixtures/host.js';
import type { Random } from './random.js';

const HUGEPAGE_SIZES = [2048, 1048576] as const;

/** 2 nodes × 32 cores × 2 threads (cpu i and i+64 siblings), pool = all but each node's first core. */
export const WORKLOAD_HOST = fakeHost({
  nodes: 2,
  coresPerNode: 32,
  threads: 2,
  pool: '1-31,33-63,65-95,97-127',
  hugepages: [0, 1].flatMap((node) => [
    { node, sizeKb: HUGEPAGE_SIZES[0], total: 100_000, free: 100_000 },
    // Few 1 GiB pages, so some requests are refused: a refusal must change nothing either.
    { node, sizeKb: HUGEPAGE_SIZES[1], total: 16, free: 16 },
  ]),
});
export const WORKLOAD_POOL = WORKLOAD_HOST.isolated!;
const NODE_CPUS = WORKLOAD_HOST.nodes!.map((node) => node.cpus);
/** At most this many CPUs per service per node: 16 services × 3 stays well under a node's 62. */
const MAX_COUNT = 3;

type OpOf<M extends MethodName> = { readonly method: M; readonly params: ParamsOf<M> };
export type Op = OpOf<'allocate_cores'> | OpOf<'allocate_numa_cores'> | OpOf<'allocate_hugepages'> | OpOf<'release_service'>;

export interface ServiceState {
  readonly cpus: CpuSet;
  readonly explicit: CpuSet;
  /** Reserved pages by "node:size". */
  readonly hugepages: ReadonlyMap<string, number>;
}

const EMPTY_STATE: ServiceState = { cpus: CpuSet.EMPTY, explicit: CpuSet.EMPTY, hugepages: new Map() };

export function randomOp(rng: Random, service: string): Op {
  const roll = rng.next();
  const count = () => rng.pick([-1, ...Array.from({ length: MAX_COUNT }, (_, i) => i + 1)]);
  if (roll < 0.35) return { method: 'allocate_cores', params: { service_name: service, num_of_cores: count() } };
  if (roll < 0.6) {
    return { method: 'allocate_numa_cores', params: { service_name: service, numa_node: rng.int(0, 1), num_of_cores: count() } };
  }
  if (roll < 0.88) {
    const hugepages_requested = rng.pick([-1, 1, 2, 3, 4, 8, 64]);
    return {
      method: 'allocate_hugepages',
      params: { service_name: service, node_id: rng.int(0, 1), size_kb: rng.pick(HUGEPAGE_SIZES), hugepages_requested },
    };
  }
  return { method: 'release_service', params: { service_name: service } };
}

export function stateOf(record: ServiceRecord | undefined): ServiceState {
  if (!record) return EMPTY_STATE;
  return {
    cpus: record.cpus,
    explicit: record.explicit,
    hugepages: new Map(record.hugepages.map((h) => [`${h.node_id}:${h.size_kb}`, h.count])),
  };
}

export function describeState(state: ServiceState): string {
  const pages = [...state.hugepages]
    .map(([key, count]) => ({ key, count, order: key.split(':').map(Number) as [number, number] }))
    .sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1])
    .map(({ key, count }) => `${key}=${count}`)
    .join(' ');
  return `cpus "${state.cpus.toString()}" explicit "${state.explicit.toString()}" hugepages {${pages}}`;
}

function sameState(a: ServiceState, b: ServiceState): boolean {
  return describeState(a) === describeState(b);
}

function withPages(state: ServiceState, node: number, size: number, count: number): ServiceState {
  const hugepages = new Map(state.hugepages);
  if (count === -1) hugepages.delete(`${node}:${size}`);
  else hugepages.set(`${node}:${size}`, count);
  return { ...state, hugepages };
}

/** The state after an acknowledged op, from its result; throws if the result breaks the workload's premise. */
export function afterReply(state: ServiceState, op: Op, result: Record<string, unknown>): ServiceState {
  switch (op.method) {
    case 'allocate_cores':
      return { ...state, cpus: parseCpuList(String(result.allocated_cores)), explicit: CpuSet.EMPTY };
    case 'allocate_numa_cores': {
      if (!Array.isArray(result.preempted) || result.preempted.length > 0) {
        throw new Error(`unexpected preemption in ${JSON.stringify(result)}`);
      }
      const node = NODE_CPUS[op.params.numa_node]!;
      const chosen = parseCpuList(String(result.cores_allocated));
      return {
        ...state,
        cpus: state.cpus.difference(node).union(chosen),
        explicit: state.explicit.difference(node).union(chosen),
      };
    }
    case 'allocate_hugepages': {
      const p = op.params;
      return withPages(state, p.node_id, p.size_kb, p.hugepages_requested);
    }
    case 'release_service':
      return EMPTY_STATE;
  }
}

const samePages = (a: ServiceState, b: ServiceState) => sameState({ ...EMPTY_STATE, hugepages: a.hugepages }, { ...EMPTY_STATE, hugepages: b.hugepages });
const sameCpus = (a: ServiceState, b: ServiceState) => a.cpus.equals(b.cpus) && a.explicit.equals(b.explicit);

/** Whether `after` is a state the op, applied to `before`, may have produced (its result unseen). */
export function couldFollow(before: ServiceState, op: Op, after: ServiceState): boolean {
  switch (op.method) {
    case 'allocate_cores': {
      const n = op.params.num_of_cores;
      const cpusOk = n === -1 ? after.cpus.isEmpty() : after.cpus.size === n && after.cpus.isSubsetOf(WORKLOAD_POOL);
      return cpusOk && after.explicit.isEmpty() && samePages(before, after);
    }
    case 'allocate_numa_cores': {
      const node = NODE_CPUS[op.params.numa_node]!;
      const n = op.params.num_of_cores;
      const onNode = after.cpus.intersect(node);
      const elsewhereKept =
        after.cpus.difference(node).equals(before.cpus.difference(node)) &&
        after.explicit.difference(node).equals(before.explicit.difference(node));
      const nodeOk = n === -1 ? onNode.isEmpty() : onNode.size === n && onNode.isSubsetOf(WORKLOAD_POOL);
      return elsewhereKept && nodeOk && onNode.equals(after.explicit.intersect(node)) && samePages(before, after);
    }
    case 'allocate_hugepages': {
      const p = op.params;
      return sameCpus(before, after) && sameState(withPages(before, p.node_id, p.size_kb, p.hugepages_requested), after);
    }
    case 'release_service':
      return sameState(EMPTY_STATE, after);
  }
}

/** Counts over a run. */
export interface WorkloadCounts {
  /** Changes answered with a result. */
  acked: number;
  /** Changes answered with a domain error other than STATE_WRITE_FAILED (nothing changed). */
  refused: number;
  /** Changes answered with STATE_WRITE_FAILED. */
  writeFailed: number;
}

export function emptyCounts(): WorkloadCounts {
  return { acked: 0, refused: 0, writeFailed: 0 };
}

const STATE_WRITE_FAILED = -32010;
/** Domain errors are -32001…-32099; anything else answers a request this workload never sends. */
const isDomainError = (code: number) => code <= -32001 && code >= -32099;

/** One service's expected state, kept by the client that alone changes it. */
export class ServiceModel {
  acked: ServiceState = EMPTY_STATE;
  /** The change sent and not answered, if any. */
  inFlight: Op | undefined;

  constructor(readonly name: string) {}

  /**
   * Checks the state a restarted daemon holds for this service and adopts it. Returns a problem,
   * or whether the unanswered change had landed.
   */
  reconcile(actual: ServiceState): { problem?: string; landed?: boolean } {
    const op = this.inFlight;
    this.inFlight = undefined;
    if (sameState(actual, this.acked)) return { landed: false };
    if (op && couldFollow(this.acked, op, actual)) {
      this.acked = actual;
      return { landed: true };
    }
    const expected = describeState(this.acked) + (op ? `, or the result of the unanswered ${op.method} ${JSON.stringify(op.params)}` : '');
    return { problem: `${this.name}: holds ${describeState(actual)}; expected ${expected}` };
  }
}

/**
 * Answers counted as they come, for a test that acts after some number of them (kills the daemon,
 * breaks the disk) rather than after some time: the same scenario on a slow machine as on a fast one.
 */
export class AnswerCount {
  #count = 0;
  #waiting: { readonly at: number; readonly wake: () => void }[] = [];

  get count(): number {
    return this.#count;
  }

  add(): void {
    this.#count++;
    const due = this.#waiting.filter((w) => w.at <= this.#count);
    this.#waiting = this.#waiting.filter((w) => w.at > this.#count);
    for (const w of due) w.wake();
  }

  /** Settles once `n` more answers have come (at once for n <= 0). */
  after(n: number): Promise<void> {
    const at = this.#count + n;
    if (at <= this.#count) return Promise.resolve();
    return new Promise((wake) => this.#waiting.push({ at, wake }));
  }
}

/**
 * Sends random changes for the model's service, one at a time, until stop() says so or the
 * connection drops (then the change in flight stays unanswered). Problems go to `problems`;
 * `onAnswer` runs on every answer of the daemon, a result or an error.
 */
export async function runClient(
  client: EpaClient,
  model: ServiceModel,
  rng: Random,
  stop: () => boolean,
  counts: WorkloadCounts,
  problems: string[],
  onAnswer: () => void = () => undefined,
): Promise<void> {
  while (!stop()) {
    const op = randomOp(rng, model.name);
    model.inFlight = op;
    let result: Record<string, unknown>;
    try {
      result = await client.call(op.method, op.params);
    } catch (error) {
      // Anything but a daemon answer is a dropped connection: the op stays in flight, its fate unknown.
      if (!(error instanceof EpaError)) return;
      model.inFlight = undefined;
      onAnswer();
      if (error.code === STATE_WRITE_FAILED) counts.writeFailed++;
      else if (isDomainError(error.code)) counts.refused++;
      else {
        problems.push(`${op.method} ${JSON.stringify(op.params)} answered ${error.code} ${error.message}`);
        return;
      }
      continue;
    }
    model.inFlight = undefined;
    counts.acked++;
    onAnswer();
    try {
      model.acked = afterReply(model.acked, op, result);
    } catch (error) {
      problems.push(`${model.name}: ${(error as Error).message}`);
    }
  }
}
