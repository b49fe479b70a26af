// Building blocks shared by the method schemas (docs/api.md). Each is a plain JSON Schema object.
import { Type } from 'typebox';
import type { Static } from 'typebox';

const SERVICE_NAME_BODY = '[A-Za-z0-9][A-Za-z0-9._@:+-]*';

export const ServiceName = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: `^${SERVICE_NAME_BODY}$`,
  description: 'Name of the client service',
});
export type ServiceName = Static<typeof ServiceName>;

/** get_memory_info echoes the optional name, or "" when none was given. */
export const EchoedServiceName = Type.String({
  maxLength: 128,
  pattern: `^(${SERVICE_NAME_BODY})?$`,
  description: 'The service_name asked for, or "" when none was given',
});

/** The kernel's cpulist in canonical form: "0-3,8,10-11", "" for the empty set. */
export const CpuList = Type.String({
  pattern: '^(\\d+(-\\d+)?(,\\d+(-\\d+)?)*)?$',
  description: 'cpulist such as "0-3,8"; "" for none',
});
export type CpuList = Static<typeof CpuList>;

export const Count = Type.Integer({ minimum: 0 });
export const NodeId = Type.Integer({ minimum: 0, description: 'NUMA node id' });
export const SizeKb = Type.Integer({ minimum: 1, description: 'Hugepage size in kB' });

/** A request count where -1 means "release" and 0 is not allowed. */
export const CountOrRelease = Type.Union([Type.Integer({ minimum: 1 }), Type.Literal(-1)], {
  description: 'an integer >= 1, or -1 to release',
});

/** One hugepage reservation of a service: `count` pages of `size_kb` on node `node_id`. */
export const HugepageEntry = Type.Object({
  node_id: NodeId,
  size_kb: SizeKb,
  count: Type.Integer({ minimum: 1, description: 'Pages reserved' }),
});
export type HugepageEntry = Static<typeof HugepageEntry>;

/** CPUs a NUMA request took from another service's automatic allocation. */
export const PreemptedEntry = Type.Object({
  service_name: ServiceName,
  cores: Type.With(CpuList, { description: 'The CPUs taken from it' }),
});
export type PreemptedEntry = Static<typeof PreemptedEntry>;

/** Params are by name and closed: an unknown member is invalid params. */
export const CLOSED = { additionalProperties: false } as const;

// Protected allocations and named pools (README.md, "Protected allocations and pools").

export const PREEMPTION_POLICIES = ['legacy', 'non-preemptive'] as const;
export const PreemptionPolicy = Type.Enum(PREEMPTION_POLICIES, {
  description: '"legacy": automatic CPUs may be preempted by NUMA requests; "non-preemptive": no one takes them',
});
export type PreemptionPolicy = Static<typeof PreemptionPolicy>;

// Thread policy (README.md, "Thread policy"): Nova's hw:cpu_thread_policy for the host's services.

export const THREAD_POLICIES = ['prefer', 'require', 'isolate'] as const;
export const ThreadPolicy = Type.Enum(THREAD_POLICIES, {
  description:
    '"prefer": whole cores first, split ones when needed; "require": whole physical cores only; ' +
    '"isolate": one thread of each of N whole cores, their other threads held idle for the service',
});
export type ThreadPolicy = Static<typeof ThreadPolicy>;
export const DEFAULT_THREAD_POLICY: ThreadPolicy = 'prefer';

/** The thread policy of the service after the call; null once it holds no CPUs. */
export const ThreadPolicyField = Type.Union([ThreadPolicy, Type.Null()], {
  description: 'The service thread policy, or null when it holds no CPUs',
});

export const POOL_NAMES = ['isolated', 'general'] as const;
export type PoolName = (typeof POOL_NAMES)[number];
export const DEFAULT_POOL: PoolName = 'isolated';

/**
 * A pool selector as a client sends it. Any name is well-formed: an unknown or unconfigured pool
 * is the domain error POOL_NOT_FOUND, not invalid params.
 */
export const PoolSelector = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'CPU pool: "isolated" (the default) or "general" (when configured)',
});

/** The pool a service's CPUs come from, in results. */
export const PoolField = Type.Enum(POOL_NAMES, { description: 'The CPU pool of the service' });

/** The policy of the service after the call; null once it holds no CPUs. */
export const PolicyField = Type.Union([PreemptionPolicy, Type.Null()], {
  description: 'The service policy, or null when it holds no CPUs',
});

export const CPU_FEATURES = ['non-preemptive-allocations', 'cpu-pools'] as const;
