// The API contract: one params and one result schema per method, and the table that the
// validators, the RPC layer, the OpenRPC document and docs/api.md are all built from.
// Params are closed (except list_allocations); results are open: listed fields are required,
// extra fields are allowed. An optional param is one `Type.Optional(...)` line in its object.
// A field whose shared building block describes it too generally gets its own description with
// Type.With; never on a union param, whose description is what invalid params says it must be.
import { Type } from 'typebox';
import type { Static, TObject } from 'typebox';
import {
  CLOSED,
  Count,
  CountOrRelease,
  CpuList,
  DEFAULT_POOL,
  EchoedServiceName,
  HugepageEntry,
  NodeId,
  CPU_FEATURES,
  PolicyField,
  PoolField,
  PoolSelector,
  PreemptedEntry,
  PreemptionPolicy,
  ServiceName,
  SizeKb,
  ThreadPolicy,
  ThreadPolicyField,
} from './common.js';
import type { ErrorReason } from './errors.js';
import type { MethodName } from './names.js';

export { METHOD_NAMES, isMethodName, type MethodName } from './names.js';

const TotalAvailable = Type.Integer({ minimum: 0, description: 'Eligible CPUs of the pool: pool ∩ online, less the reserved (housekeeping) CPUs' });
const Remaining = Type.Integer({ minimum: 0, description: 'Eligible CPUs of the pool that no service holds' });
const AsRequested = { description: 'As requested' } as const;

/** An omitted pool is the default one, never the service's current pool. */
const PoolParam = Type.Optional(Type.With(PoolSelector, { default: DEFAULT_POOL }));

/** The optional params of the three allocation methods: protected allocations and named pools. */
const AllocationOptions = {
  preemption_policy: Type.Optional(
    Type.With(PreemptionPolicy, {
      description:
        '"legacy": automatic CPUs may be preempted by NUMA requests; "non-preemptive": no one takes them; ' +
        "omitted: the service's current policy (legacy for a service without CPUs)",
    }),
  ),
  pool: PoolParam,
  cpu_thread_policy: Type.Optional(
    Type.With(ThreadPolicy, {
      description:
        '"prefer" (whole cores first), "require" (whole cores only) or "isolate" (one thread per whole core, ' +
        "its siblings held idle); omitted: the service's current policy (prefer for a service without CPUs)",
    }),
  ),
};

/** What every allocation result and list entry says of the service after the call. */
const PolicyAndPool = {
  preemption_policy: PolicyField,
  pool: PoolField,
  cpu_thread_policy: ThreadPolicyField,
  isolated_siblings: Type.With(CpuList, {
    description: 'Threads of its cores held idle by the isolate policy: never handed to anyone, not in its CPUs; "" when none',
  }),
};

// allocate_cores

export const AllocateCoresParams = Type.Object(
  {
    service_name: ServiceName,
    num_of_cores: Type.Integer({
      minimum: -1,
      description: 'N > 0: exactly N CPUs; 0: the default share of the free pool; -1: release',
    }),
    ...AllocationOptions,
  },
  CLOSED,
);
export type AllocateCoresParams = Static<typeof AllocateCoresParams>;

export const AllocateCoresResult = Type.Object({
  service_name: ServiceName,
  num_of_cores: Type.Integer({ minimum: -1, ...AsRequested }),
  cores_allocated: Type.With(Count, { description: 'How many CPUs the service holds after the call' }),
  allocated_cores: Type.With(CpuList, { description: "The service's CPUs after the call" }),
  shared_cpus: Type.With(CpuList, { description: 'Eligible CPUs of the pool that no service holds after the call' }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
  ...PolicyAndPool,
});
export type AllocateCoresResult = Static<typeof AllocateCoresResult>;

// allocate_cores_percent

export const AllocateCoresPercentParams = Type.Object(
  {
    service_name: ServiceName,
    percent: Type.Integer({
      minimum: -1,
      maximum: 100,
      description: 'Share of the pool, rounded up; 0 or -1: release',
    }),
    ...AllocationOptions,
  },
  CLOSED,
);
export type AllocateCoresPercentParams = Static<typeof AllocateCoresPercentParams>;

export const AllocateCoresPercentResult = Type.Object({
  service_name: ServiceName,
  cores_allocated_count: Type.With(Count, { description: 'How many CPUs the service holds after the call' }),
  allocated_cores: Type.With(CpuList, { description: "The service's CPUs after the call" }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
  ...PolicyAndPool,
});
export type AllocateCoresPercentResult = Static<typeof AllocateCoresPercentResult>;

// allocate_numa_cores

export const AllocateNumaCoresParams = Type.Object(
  {
    service_name: ServiceName,
    numa_node: NodeId,
    num_of_cores: CountOrRelease,
    ...AllocationOptions,
  },
  CLOSED,
);
export type AllocateNumaCoresParams = Static<typeof AllocateNumaCoresParams>;

export const AllocateNumaCoresResult = Type.Object({
  service_name: ServiceName,
  numa_node: NodeId,
  num_of_cores: Type.With(CountOrRelease, AsRequested),
  cores_allocated: Type.With(CpuList, { description: 'The service\'s CPUs on that node after the call ("" after -1)' }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
  preempted: Type.Array(PreemptedEntry, {
    description: "CPUs taken from other services' automatic allocations, by service; [] when none",
  }),
  ...PolicyAndPool,
});
export type AllocateNumaCoresResult = Static<typeof AllocateNumaCoresResult>;

// explicitly_allocate_cores

export const ExplicitlyAllocateCoresParams = Type.Object(
  {
    service_name: ServiceName,
    cores_requested: Type.With(CpuList, {
      minLength: 1,
      description: 'The CPUs wanted, as a cpulist such as "4-7,20-23"; they replace every CPU the service holds',
    }),
    ...AllocationOptions,
  },
  CLOSED,
);
export type ExplicitlyAllocateCoresParams = Static<typeof ExplicitlyAllocateCoresParams>;

export const ExplicitlyAllocateCoresResult = Type.Object({
  service_name: ServiceName,
  cores_requested: Type.With(CpuList, AsRequested),
  cores_allocated: Type.With(CpuList, { description: "The service's CPUs after the call: the requested CPUs that could be given" }),
  cores_rejected: Type.With(CpuList, {
    description: 'Requested CPUs not given: held explicitly or protected by another service, not eligible, or against the thread policy',
  }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
  preempted: Type.Array(PreemptedEntry, {
    description: "CPUs taken from other services' automatic allocations, by service; [] when none",
  }),
  ...PolicyAndPool,
});
export type ExplicitlyAllocateCoresResult = Static<typeof ExplicitlyAllocateCoresResult>;

// list_allocations

/** Any other params are accepted and ignored: older clients send `service_name`. */
export const ListAllocationsParams = Type.Object({ pool: PoolParam }, { additionalProperties: true });
export type ListAllocationsParams = Static<typeof ListAllocationsParams>;

export const CpuPoolInfo = Type.Object({
  name: Type.With(PoolField, { description: 'The pool described' }),
  source: Type.Enum(['isolated', 'configured'], {
    description: '"isolated": the kernel isolated list; "configured": --cpu-pool or --general-pool',
  }),
  configured_cpus: Type.With(CpuList, { description: 'The pool as configured, offline CPUs included' }),
  eligible_cpus: Type.With(CpuList, {
    description: 'configured ∩ online − reserved: the CPUs that may be handed out (none while the pool is unavailable)',
  }),
  unavailable_allocated_cpus: Type.With(CpuList, {
    description: 'CPUs held by services of the pool that are not eligible (offline, or no longer in the pool)',
  }),
  unavailable_reason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the pool hands out no CPU: a sysfs file or the pool setting is broken; null when it is usable',
  }),
});
export type CpuPoolInfo = Static<typeof CpuPoolInfo>;

export const AllocationEntry = Type.Object({
  service_name: ServiceName,
  allocated_cores: Type.With(CpuList, { description: 'Every CPU the service holds, explicit and stale ones included' }),
  cores_count: Type.With(Count, { description: 'How many CPUs the service holds' }),
  is_explicit: Type.Boolean({ description: 'Whether the service holds any explicit CPU' }),
  explicit_cores: Type.With(CpuList, {
    description: 'CPUs taken with allocate_numa_cores or explicitly_allocate_cores, which no other request may take',
  }),
  numa_nodes: Type.Array(NodeId, { description: 'NUMA nodes of its CPUs, sorted' }),
  hugepages: Type.Array(HugepageEntry, { description: 'Its hugepage reservations, by node then size' }),
  stale_cores: Type.With(CpuList, {
    description: 'Its CPUs that are not eligible (offline, or no longer in the pool): kept, never handed to anyone else',
  }),
  ...PolicyAndPool,
});
export type AllocationEntry = Static<typeof AllocationEntry>;

export const ListAllocationsResult = Type.Object({
  pool: Type.With(PoolField, { description: 'The pool listed' }),
  total_allocations: Type.With(Count, { description: 'Services listed' }),
  total_allocated_cpus: Type.With(Count, { description: 'CPUs held by the services listed' }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
  allocations: Type.Array(AllocationEntry, { description: 'Sorted by service_name' }),
  supported_cpu_features: Type.Array(Type.String(), {
    description: `Capabilities of this daemon; includes ${CPU_FEATURES.map((f) => `"${f}"`).join(' and ')}`,
  }),
  cpu_pool: Type.With(CpuPoolInfo, { description: 'The pool listed: its CPUs, and why it hands out none when it does not' }),
});
export type ListAllocationsResult = Static<typeof ListAllocationsResult>;

// get_memory_info

export const GetMemoryInfoParams = Type.Object(
  {
    service_name: Type.Optional(
      Type.With(ServiceName, { description: "Only echoed in the result: every service's reservations are listed" }),
    ),
  },
  CLOSED,
);
export type GetMemoryInfoParams = Static<typeof GetMemoryInfoParams>;

export const HugepageCapacity = Type.Object({
  size: SizeKb,
  total: Type.Integer({ minimum: 0, description: 'nr_hugepages' }),
  free: Type.Integer({ minimum: 0, description: 'max(0, min(free_kernel, total - reserved))' }),
  free_kernel: Type.Integer({ minimum: 0, description: 'free_hugepages' }),
  reserved: Type.Integer({ minimum: 0, description: 'Sum of the recorded reservations' }),
});
export type HugepageCapacity = Static<typeof HugepageCapacity>;

export const NodeMemory = Type.Object({
  capacity: Type.Array(HugepageCapacity, { description: 'Sorted by size' }),
  allocations: Type.Record(
    Type.String(),
    Type.Record(Type.String({ pattern: '^[1-9][0-9]*$' }), Type.Integer({ minimum: 1 })),
    { description: 'service name -> size in kB -> reserved count' },
  ),
});
export type NodeMemory = Static<typeof NodeMemory>;

export const GetMemoryInfoResult = Type.Object({
  service_name: EchoedServiceName,
  numa_hugepages: Type.Record(Type.String({ pattern: '^node[0-9]+$' }), NodeMemory, {
    description: 'Every NUMA node, keyed "node<N>"',
  }),
});
export type GetMemoryInfoResult = Static<typeof GetMemoryInfoResult>;

// allocate_hugepages

export const AllocateHugepagesParams = Type.Object(
  {
    service_name: ServiceName,
    node_id: NodeId,
    size_kb: SizeKb,
    hugepages_requested: CountOrRelease,
  },
  CLOSED,
);
export type AllocateHugepagesParams = Static<typeof AllocateHugepagesParams>;

export const AllocateHugepagesResult = Type.Object({
  service_name: ServiceName,
  hugepages_requested: Type.With(CountOrRelease, AsRequested),
  allocation_successful: Type.Literal(true, { description: 'Always true: a refusal is an error' }),
  message: Type.String({
    description: 'What was done: "Recorded …", "Removed recorded hugepage allocation" or "No existing record to remove"',
  }),
  node_id: NodeId,
  size_kb: SizeKb,
});
export type AllocateHugepagesResult = Static<typeof AllocateHugepagesResult>;

// release_service

export const ReleaseServiceParams = Type.Object({ service_name: ServiceName, pool: PoolParam }, CLOSED);
export type ReleaseServiceParams = Static<typeof ReleaseServiceParams>;

export const ReleaseServiceResult = Type.Object({
  service_name: ServiceName,
  released_cores: Type.With(CpuList, { description: 'The CPUs the service held' }),
  released_hugepages: Type.Array(HugepageEntry, { description: 'The reservations the service held' }),
  total_available_cpus: TotalAvailable,
  remaining_available_cpus: Remaining,
});
export type ReleaseServiceResult = Static<typeof ReleaseServiceResult>;

// get_topology

export const GetTopologyParams = Type.Object({}, CLOSED);
export type GetTopologyParams = Static<typeof GetTopologyParams>;

export const TopologyNode = Type.Object({
  node_id: NodeId,
  cpus: Type.With(CpuList, { description: 'Every CPU of the node' }),
  pool_cpus: Type.With(CpuList, { description: "The node's CPUs in the default pool" }),
  free_cpus: Type.With(CpuList, { description: 'Eligible pool CPUs of the node that no service holds' }),
  cores: Type.Array(CpuList, { description: "Each physical core's pool threads" }),
  hugepage_sizes_kb: Type.Array(SizeKb, { description: 'Hugepage sizes of the node, in kB' }),
  l3_domains: Type.Array(CpuList, {
    description: "The node's CPUs grouped by the L3 cache they share, ordered by lowest CPU; one of every CPU when the host has no cache files",
  }),
});
export type TopologyNode = Static<typeof TopologyNode>;

export const GetTopologyResult = Type.Object({
  pool: Type.With(CpuList, { description: 'The default pool as configured, offline CPUs included' }),
  online: Type.With(CpuList, { description: 'CPUs online' }),
  reserved: Type.With(CpuList, { description: 'Housekeeping CPUs (--reserved-cpus) that no pool hands out; "" when none' }),
  numa_nodes: Type.Array(TopologyNode, { description: 'Sorted by node id' }),
});
export type GetTopologyResult = Static<typeof GetTopologyResult>;

// get_nova_config

export const GetNovaConfigParams = Type.Object({ service_name: ServiceName, pool: PoolParam }, CLOSED);
export type GetNovaConfigParams = Static<typeof GetNovaConfigParams>;

export const GetNovaConfigResult = Type.Object({
  service_name: ServiceName,
  cpu_dedicated_set: Type.With(CpuList, { description: "The service's CPUs: nova.conf [compute] cpu_dedicated_set" }),
  cpu_shared_set: Type.With(CpuList, {
    description: "Eligible CPUs of the pool that no service holds (allocate_cores' shared_cpus): [compute] cpu_shared_set",
  }),
  reserved_huge_pages: Type.Array(Type.String({ pattern: '^node:[0-9]+,size:[0-9]+,count:[0-9]+$' }), {
    description:
      'Every other service\'s hugepage reservations, summed per node and size (kB), as nova.conf [DEFAULT] reserved_huge_pages entries: "node:0,size:2048,count:64"',
  }),
});
export type GetNovaConfigResult = Static<typeof GetNovaConfigResult>;

// subscribe, unsubscribe

export const SubscribeParams = Type.Object({}, CLOSED);
export type SubscribeParams = Static<typeof SubscribeParams>;

export const SubscribeResult = Type.Object({
  subscribed: Type.Boolean({ description: 'Whether this connection now receives allocation_changed notifications' }),
});
export type SubscribeResult = Static<typeof SubscribeResult>;

// The table

interface MethodDefinition<N extends MethodName, P extends TObject, R extends TObject> {
  readonly name: N;
  readonly summary: string;
  readonly params: P;
  readonly result: R;
  /** Domain errors the method can answer, besides the standard JSON-RPC ones. */
  readonly errors: readonly ErrorReason[];
}

function method<const N extends MethodName, P extends TObject, R extends TObject>(
  definition: MethodDefinition<N, P, R>,
): MethodDefinition<N, P, R> {
  return Object.freeze(definition);
}

export const METHODS = [
  method({
    name: 'allocate_cores',
    summary: 'Give a service exactly N CPUs from the free pool (automatic allocation)',
    params: AllocateCoresParams,
    result: AllocateCoresResult,
    errors: ['NO_ISOLATED_CPUS', 'INSUFFICIENT_CPUS', 'POLICY_CONFLICT', 'CPUS_UNAVAILABLE', 'POOL_NOT_FOUND', 'POOL_CONFLICT', 'STATE_WRITE_FAILED'],
  }),
  method({
    name: 'allocate_cores_percent',
    summary: 'Give a service a percentage of the pool, rounded up',
    params: AllocateCoresPercentParams,
    result: AllocateCoresPercentResult,
    errors: ['NO_ISOLATED_CPUS', 'INSUFFICIENT_CPUS', 'POLICY_CONFLICT', 'CPUS_UNAVAILABLE', 'POOL_NOT_FOUND', 'POOL_CONFLICT', 'STATE_WRITE_FAILED'],
  }),
  method({
    name: 'allocate_numa_cores',
    summary: "Replace a service's CPUs on one NUMA node with N explicit CPUs of that node",
    params: AllocateNumaCoresParams,
    result: AllocateNumaCoresResult,
    errors: [
      'NO_ISOLATED_CPUS',
      'INSUFFICIENT_CPUS',
      'NUMA_NODE_NOT_FOUND',
      'NUMA_TOPOLOGY_UNAVAILABLE',
      'POLICY_CONFLICT',
      'CPUS_UNAVAILABLE',
      'POOL_NOT_FOUND',
      'POOL_CONFLICT',
      'STATE_WRITE_FAILED',
    ],
  }),
  method({
    name: 'explicitly_allocate_cores',
    summary: "Replace a service's CPUs with the requested ones that can be given, as explicit CPUs",
    params: ExplicitlyAllocateCoresParams,
    result: ExplicitlyAllocateCoresResult,
    errors: ['NO_ISOLATED_CPUS', 'INSUFFICIENT_CPUS', 'POLICY_CONFLICT', 'POOL_NOT_FOUND', 'POOL_CONFLICT', 'STATE_WRITE_FAILED'],
  }),
  method({
    name: 'list_allocations',
    summary: 'List every service with its CPUs and hugepage reservations',
    params: ListAllocationsParams,
    result: ListAllocationsResult,
    errors: ['POOL_NOT_FOUND'],
  }),
  method({
    name: 'get_memory_info',
    summary: 'Hugepage capacity and recorded reservations of every NUMA node',
    params: GetMemoryInfoParams,
    result: GetMemoryInfoResult,
    errors: [],
  }),
  method({
    name: 'allocate_hugepages',
    summary: "Record (set or remove) a service's hugepage reservation on one node and size",
    params: AllocateHugepagesParams,
    result: AllocateHugepagesResult,
    errors: ['NUMA_NODE_NOT_FOUND', 'HUGEPAGE_SIZE_NOT_FOUND', 'INSUFFICIENT_HUGEPAGES', 'STATE_WRITE_FAILED'],
  }),
  method({
    name: 'release_service',
    summary: 'Release every CPU and hugepage reservation of a service',
    params: ReleaseServiceParams,
    result: ReleaseServiceResult,
    errors: ['POOL_NOT_FOUND', 'POOL_CONFLICT', 'STATE_WRITE_FAILED'],
  }),
  method({
    name: 'get_topology',
    summary: 'The pool, online CPUs and per-node CPUs, cores and hugepage sizes',
    params: GetTopologyParams,
    result: GetTopologyResult,
    errors: [],
  }),
  method({
    name: 'get_nova_config',
    summary: "What Nova's nova.conf needs of a service: its dedicated and shared CPUs, and the hugepages others reserved",
    params: GetNovaConfigParams,
    result: GetNovaConfigResult,
    errors: ['POOL_NOT_FOUND', 'POOL_CONFLICT'],
  }),
  method({
    name: 'subscribe',
    summary: 'Receive an allocation_changed notification for every change, once it is durable',
    params: SubscribeParams,
    result: SubscribeResult,
    errors: [],
  }),
  method({
    name: 'unsubscribe',
    summary: 'Stop the allocation_changed notifications of this connection',
    params: SubscribeParams,
    result: SubscribeResult,
    errors: [],
  }),
] as const;

export type MethodTable = typeof METHODS;
export type MethodOf<M extends MethodName> = Extract<MethodTable[number], { name: M }>;

// The table defines every declared name, and only those: this type does not compile otherwise.
type TableName = MethodTable[number]['name'];
type Holds<T extends true> = T;
export type TableIsComplete = Holds<[MethodName] extends [TableName] ? ([TableName] extends [MethodName] ? true : false) : false>;
export type ParamsOf<M extends MethodName> = Static<MethodOf<M>['params']>;
export type ResultOf<M extends MethodName> = Static<MethodOf<M>['result']>;
export type AnyMethod = MethodTable[number];

const BY_NAME: ReadonlyMap<string, AnyMethod> = new Map(METHODS.map((m) => [m.name, m]));

export function methodByName<M extends MethodName>(name: M): MethodOf<M> {
  return BY_NAME.get(name) as MethodOf<M>;
}
