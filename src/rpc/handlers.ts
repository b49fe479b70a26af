// One entry per method of SPEC section 4: params arrive validated against the method's schema;
// changes go through App.change, reads answer from the durable ledger.
import type { MethodName, ParamsOf, ResultOf } from '../../schema/index.js';
import {
  allocateCores,
  allocateCoresPercent,
  allocateHugepages,
  allocateNumaCores,
  listAllocations,
  memoryInfo,
  releaseService,
  topologyView,
} from '../allocator/index.js';
import type { App } from './app.js';

export interface Handler<M extends MethodName> {
  /** A change is logged at info with what it did; a read is not. */
  readonly changes: boolean;
  run(params: ParamsOf<M>, app: App): ResultOf<M> | Promise<ResultOf<M>>;
  /** For the info log line of a change: what the service got. */
  describe?(result: ResultOf<M>): string;
}

export const HANDLERS: { readonly [M in MethodName]: Handler<M> } = {
  allocate_cores: {
    changes: true,
    run: (p, app) => app.change((ledger) => allocateCores(app.host(), ledger, p)),
    describe: (r) => `cpus "${r.allocated_cores}" (${r.cores_allocated})`,
  },
  allocate_cores_percent: {
    changes: true,
    run: (p, app) => app.change((ledger) => allocateCoresPercent(app.host(), ledger, p)),
    describe: (r) => `cpus "${r.allocated_cores}" (${r.cores_allocated_count})`,
  },
  allocate_numa_cores: {
    changes: true,
    run: (p, app) => app.change((ledger) => allocateNumaCores(app.host(), ledger, p)),
    describe: (r) =>
      `node ${r.numa_node} cpus "${r.cores_allocated}"` +
      r.preempted.map((v) => `, preempted "${v.cores}" from ${v.service_name}`).join(''),
  },
  list_allocations: {
    changes: false,
    run: (p, app) => listAllocations(app.ledger(), app.host(), p.pool),
  },
  get_memory_info: {
    changes: false,
    run: (p, app) => memoryInfo(app.host(), app.ledger(), app.hugepagePools(), p),
  },
  allocate_hugepages: {
    changes: true,
    run: (p, app) => {
      const pools = app.hugepagePools();
      return app.change((ledger) => allocateHugepages(app.host(), ledger, pools, p));
    },
    describe: (r) => r.message,
  },
  release_service: {
    changes: true,
    run: (p, app) => app.change((ledger) => releaseService(app.host(), ledger, p)),
    describe: (r) =>
      `released cpus "${r.released_cores}"` +
      r.released_hugepages.map((h) => `, ${h.count} × ${h.size_kb} kB on node ${h.node_id}`).join(''),
  },
  get_topology: {
    changes: false,
    run: (_p, app) => topologyView(app.ledger(), app.host()),
  },
};
