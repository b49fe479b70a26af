// What a run measures: the full matrix of `make bench`, or the small one of --smoke, which only
// checks that every part of the bench still works.
import type { Budget } from './stats.js';
import type { HostShape } from './synthetic.js';

export type Mode = 'full' | 'smoke';
/** What the load asks: list_allocations, get_memory_info, or changes. */
export type Mix = 'list' | 'memory' | 'write';

export interface SocketPlan {
  readonly connections: readonly number[];
  /** Requests each connection keeps outstanding. */
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface Plan {
  readonly mode: Mode;
  /** Every CPU count × node count with at least one 2-thread core per node. */
  readonly hosts: readonly HostShape[];
  /** Hosts with L3 domains, where the thread policies and explicit requests are measured too. */
  readonly l3Hosts: readonly HostShape[];
  readonly services: readonly number[];
  /** Budget of one pure call (allocate, list); `slow` is for reloads and encodes of the whole file. */
  readonly budget: { readonly fast: Budget; readonly slow: Budget };
  readonly socket: SocketPlan;
}

function hostsOf(cpus: readonly number[], nodes: readonly number[]): HostShape[] {
  return cpus.flatMap((c) => nodes.filter((n) => c / n >= 2).map((n) => ({ cpus: c, nodes: n })));
}

export const FULL: Plan = {
  mode: 'full',
  hosts: hostsOf([64, 512, 4096], [1, 8, 64]),
  l3Hosts: [{ cpus: 4096, nodes: 64, l3PerNode: 8 }],
  services: [10, 1000, 10_000],
  budget: {
    fast: { warmup: 20, minSamples: 30, maxSamples: 5000, maxMs: 150 },
    slow: { warmup: 2, minSamples: 10, maxSamples: 500, maxMs: 250 },
  },
  socket: { connections: [1, 8, 64], window: 16, warmupMs: 500, durationMs: 2000 },
};

export const SMOKE: Plan = {
  mode: 'smoke',
  hosts: hostsOf([64, 512], [1, 8]),
  l3Hosts: [{ cpus: 512, nodes: 8, l3PerNode: 4 }],
  services: [10, 1000],
  budget: {
    fast: { warmup: 2, minSamples: 5, maxSamples: 20, maxMs: 5 },
    slow: { warmup: 1, minSamples: 3, maxSamples: 5, maxMs: 5 },
  },
  socket: { connections: [1, 8], window: 16, warmupMs: 100, durationMs: 300 },
};

/** The daemon of the socket benchmark: 256 CPUs on 2 nodes, a ledger of 16 services. */
export const DAEMON_HOST: HostShape = { cpus: 256, nodes: 2 };
export const DAEMON_LEDGER = { services: 16, heldShare: 0.25 } as const;
