// One entry per method (docs/api.md): params arrive validated against the method's schema. A
// change is a plan the session runs through App.change, in the order its connection sent it; a
// read answers from the ledger the session gives it (the durable one, or the one right after the
// connection's last change once that change is durable); a connection method acts on the
// connection itself (its subscription).
import type { MethodName, ParamsOf, ResultOf } from '../../schema/index.js';
import {
  allocateCores,
  allocateCoresPercent,
  allocateHugepages,
  allocateNumaCores,
  explicitlyAllocateCores,
  listAllocations,
  memoryInfo,
  novaConfig,
  releaseService,
  topologyView,
} from '../allocator/index.js';
import type { Ledger, Plan } from '../allocator/index.js';
import type { App } from './app.js';

export interface ReadHandler<M extends MethodName> {
  readonly kind: 'read';
  run(params: ParamsOf<M>, app: App, ledger: Ledger): ResultOf<M>;
}

export interface ChangeHandler<M extends MethodName> {
  readonly kind: 'change';
  /** The plan of the change; what it needs of the host is read when the plan is made. */
  plan(params: ParamsOf<M>, app: App): (ledger: Ledger) => Plan<ResultOf<M>>;
  /** For the info log line of a change: what the service got. */
  describe(result: ResultOf<M>): string;
}

/** What a connection method may do to its connection. */
export interface ConnectionControl {
  /** Turns the connection's allocation_changed notifications on or off. */
  setSubscribed(on: boolean): void;
}

export interface ConnectionHandler<M extends MethodName> {
  readonly kind: 'connection';
  run(params: ParamsOf<M>, connection: ConnectionControl): ResultOf<M>;
}

export type Handler<M extends MethodName> = ReadHandler<M> | ChangeHandler<M> | ConnectionHandler<M>;

export const HANDLERS: { readonly [M in MethodName]: Handler<M> } = {
  allocate_cores: {
    kind: 'change',
    plan: (p, app) => (ledger) => allocateCores(app.hostView(), ledger, p),
    describe: (r) => `cpus "${r.allocated_cores}" (${r.cores_allocated})`,
  },
  allocate_cores_percent: {
    kind: 'change',
    plan: (p, app) => (ledger) => allocateCoresPercent(app.hostView(), ledger, p),
    describe: (r) => `cpus "${r.allocated_cores}" (${r.cores_allocated_count})`,
  },
  allocate_numa_cores: {
    kind: 'change',
    plan: (p, app) => (ledger) => allocateNumaCores(app.hostView(), ledger, p),
    describe: (r) =>
      `node ${r.numa_node} cpus "${r.cores_allocated}"` +
      r.preempted.map((v) => `, preempted "${v.cores}" from ${v.service_name}`).join(''),
  },
  explicitly_allocate_cores: {
    kind: 'change',
    plan: (p, app) => (ledger) => explicitlyAllocateCores(app.hostView(), ledger, p),
    describe: (r) =>
      `explicit cpus "${r.cores_allocated}"` +
      (r.cores_rejected === '' ? '' : `, rejected "${r.cores_rejected}"`) +
      r.preempted.map((v) => `, preempted "${v.cores}" from ${v.service_name}`).join(''),
  },
  list_allocations: {
    kind: 'read',
    run: (p, app, ledger) => listAllocations(ledger, app.hostView(), p.pool),
  },
  get_memory_info: {
    kind: 'read',
    run: (p, app, ledger) => memoryInfo(app.hostView(), ledger, app.hugepageCounters('read'), p),
  },
  allocate_hugepages: {
    kind: 'change',
    plan: (p, app) => {
      const counters = app.hugepageCounters('change');
      return (ledger) => allocateHugepages(app.hostView(), ledger, counters, p);
    },
    describe: (r) => r.message,
  },
  release_service: {
    kind: 'change',
    plan: (p, app) => (ledger) => releaseService(app.hostView(), ledger, p),
    describe: (r) =>
      `released cpus "${r.released_cores}"` +
      r.released_hugepages.map((h) => `, ${h.count} × ${h.size_kb} kB on node ${h.node_id}`).join(''),
  },
  get_topology: {
    kind: 'read',
    run: (_p, app, ledger) => topologyView(ledger, app.hostView()),
  },
  get_nova_config: {
    kind: 'read',
    run: (p, app, ledger) => novaConfig(app.hostView(), ledger, p),
  },
  subscribe: {
    kind: 'connection',
    run: (_p, connection) => {
      connection.setSubscribed(true);
      return { subscribed: true };
    },
  },
  unsubscribe: {
    kind: 'connection',
    run: (_p, connection) => {
      connection.setSubscribed(false);
      return { subscribed: false };
    },
  },
};
