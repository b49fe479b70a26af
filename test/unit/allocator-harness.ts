// Runs the pure allocator the way a handler does and checks every answer against the method's
// result schema, so no allocator test can pass with a result a client would reject.
import { expect } from 'chai';
import { DomainError, validateResult } from '../../schema/index.js';
import type { MethodName, ParamsOf, PreemptionPolicy, ResultOf, ThreadPolicy } from '../../schema/index.js';
import {
  Ledger,
  allocateCores,
  allocateCoresPercent,
  allocateHugepages,
  allocateNumaCores,
  explicitlyAllocateCores,
  hostView,
  listAllocations,
  memoryInfo,
  releaseService,
  topologyView,
} from '../../src/allocator/index.js';
import type { HostView, Plan } from '../../src/allocator/index.js';
import { parseCpuList } from '../../src/cpuset/index.js';
import type { HugepageCounters } from '../../src/topology/index.js';
import { topologyOf } from '../fixtures/host.js';
import type { FakeHost } from '../fixtures/host.js';

/** A host as one request sees it: the topology snapshot and the fresh hugepage counters. */
export interface Machine {
  readonly host: HostView;
  readonly hugepages: readonly HugepageCounters[];
}

export function machine(desc: FakeHost, cpuPool?: string): Machine {
  const options = cpuPool === undefined ? {} : { cpuPool };
  return { host: hostView(topologyOf(desc, options)), hugepages: desc.hugepages };
}

/** What pools and eligibility add to a host: a general pool, and `online` read after the topology. */
export interface MachineOptions {
  readonly cpuPool?: string;
  /** --general-pool (cpulist). */
  readonly general?: string;
  /** The online CPUs now, when they differ from those at the topology read. */
  readonly online?: string;
  /** --reserved-cpus (cpulist). */
  readonly reserved?: string;
}

export function machineWith(desc: FakeHost, options: MachineOptions): Machine {
  const topo = topologyOf(desc, options.cpuPool === undefined ? {} : { cpuPool: options.cpuPool });
  const host = hostView(topo, {
    ...(options.general === undefined ? {} : { general: parseCpuList(options.general) }),
    ...(options.online === undefined ? {} : { online: parseCpuList(options.online) }),
    ...(options.reserved === undefined ? {} : { reserved: parseCpuList(options.reserved) }),
  });
  return { host, hugepages: desc.hugepages };
}

/** The methods that change the ledger. */
export type ChangeMethod =
  | 'allocate_cores'
  | 'allocate_cores_percent'
  | 'allocate_numa_cores'
  | 'explicitly_allocate_cores'
  | 'allocate_hugepages'
  | 'release_service';

export interface RequestOf<M extends ChangeMethod> {
  readonly method: M;
  readonly params: ParamsOf<M>;
}

/** One request of a changing method. */
export type Request = { [M in ChangeMethod]: RequestOf<M> }[ChangeMethod];

function planOf(m: Machine, ledger: Ledger, request: Request): Plan<unknown> {
  switch (request.method) {
    case 'allocate_cores':
      return allocateCores(m.host, ledger, request.params);
    case 'allocate_cores_percent':
      return allocateCoresPercent(m.host, ledger, request.params);
    case 'allocate_numa_cores':
      return allocateNumaCores(m.host, ledger, request.params);
    case 'explicitly_allocate_cores':
      return explicitlyAllocateCores(m.host, ledger, request.params);
    case 'allocate_hugepages':
      return allocateHugepages(m.host, ledger, m.hugepages, request.params);
    case 'release_service':
      return releaseService(m.host, ledger, request.params);
  }
}

function checked<M extends MethodName>(method: M, result: unknown): ResultOf<M> {
  const outcome = validateResult(method, result);
  if (!outcome.ok) expect.fail(`${method} answered ${JSON.stringify(result)}: ${JSON.stringify(outcome.errors)}`);
  return outcome.value;
}

/** Plans one request (throws its DomainError) and checks the result against the schema. */
export function apply(m: Machine, ledger: Ledger, request: Request): Plan<unknown> {
  const plan = planOf(m, ledger, request);
  checked(request.method, plan.result);
  return plan;
}

/** `apply` with the result typed by method, for tests that read its fields. */
export function run<M extends ChangeMethod>(m: Machine, ledger: Ledger, request: RequestOf<M>): Plan<ResultOf<M>> {
  return apply(m, ledger, request as Request) as Plan<ResultOf<M>>;
}

/** Applies requests in order from `ledger` (default empty); the ledger after the last one. */
export function after(m: Machine, requests: readonly Request[], ledger: Ledger = Ledger.EMPTY): Ledger {
  return requests.reduce((current, request) => apply(m, current, request).next, ledger);
}

export function list(m: Machine, ledger: Ledger, pool?: string): ResultOf<'list_allocations'> {
  return checked('list_allocations', listAllocations(ledger, m.host, pool));
}

export function memory(m: Machine, ledger: Ledger, serviceName?: string): ResultOf<'get_memory_info'> {
  const params = serviceName === undefined ? {} : { service_name: serviceName };
  return checked('get_memory_info', memoryInfo(m.host, ledger, m.hugepages, params));
}

export function topology(m: Machine, ledger: Ledger): ResultOf<'get_topology'> {
  return checked('get_topology', topologyView(ledger, m.host));
}

/** The optional params of the allocation methods: a preemption policy, a pool, a thread policy. */
export interface Options {
  readonly pool?: string;
  readonly preemption_policy?: PreemptionPolicy;
  readonly cpu_thread_policy?: ThreadPolicy;
}

/** Shorthands for requests, in the order a test reads them. */
export const cores = (service_name: string, num_of_cores: number, options: Options = {}): RequestOf<'allocate_cores'> => ({
  method: 'allocate_cores',
  params: { service_name, num_of_cores, ...options },
});
export const percent = (service_name: string, value: number, options: Options = {}): RequestOf<'allocate_cores_percent'> => ({
  method: 'allocate_cores_percent',
  params: { service_name, percent: value, ...options },
});
export const explicit = (service_name: string, cores_requested: string, options: Options = {}): RequestOf<'explicitly_allocate_cores'> => ({
  method: 'explicitly_allocate_cores',
  params: { service_name, cores_requested, ...options },
});
export const numa = (
  service_name: string,
  numa_node: number,
  num_of_cores: number,
  options: Options = {},
): RequestOf<'allocate_numa_cores'> => ({
  method: 'allocate_numa_cores',
  params: { service_name, numa_node, num_of_cores, ...options },
});
export const hugepages = (
  service_name: string,
  node_id: number,
  size_kb: number,
  hugepages_requested: number,
): RequestOf<'allocate_hugepages'> => ({
  method: 'allocate_hugepages',
  params: { service_name, node_id, size_kb, hugepages_requested },
});
export const release = (service_name: string): RequestOf<'release_service'> => ({
  method: 'release_service',
  params: { service_name },
});
export const releaseIn = (service_name: string, pool: string): RequestOf<'release_service'> => ({
  method: 'release_service',
  params: { service_name, pool },
});

/** The CPUs of a service in the ledger, as a cpulist. */
export function cpusOf(ledger: Ledger, service: string): string {
  return ledger.recordOf(service).cpus.toString();
}

/** Runs fn, expects a DomainError of that reason, and returns it for further checks. */
export function domainError(fn: () => unknown, reason: string): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(DomainError);
    expect((e as DomainError).reason).to.equal(reason);
    return e as DomainError;
  }
  return expect.fail(`expected a ${reason} error`);
}

/** What a request did: its plan, or the DomainError that refused it (any other throw is a bug and propagates). */
export type Outcome = { readonly ok: true; readonly plan: Plan<unknown> } | { readonly ok: false; readonly error: DomainError };

export function attempt(m: Machine, ledger: Ledger, request: Request): Outcome {
  try {
    return { ok: true, plan: apply(m, ledger, request) };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, error: e };
    throw e;
  }
}
