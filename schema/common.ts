// Building blocks shared by the method schemas (SPEC section 4). Each is a plain JSON Schema object.
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
  count: Type.Integer({ minimum: 1 }),
});
export type HugepageEntry = Static<typeof HugepageEntry>;

/** CPUs a NUMA request took from another service's automatic allocation. */
export const PreemptedEntry = Type.Object({
  service_name: ServiceName,
  cores: CpuList,
});
export type PreemptedEntry = Static<typeof PreemptedEntry>;

/** Params are by name and closed: an unknown member is invalid params. */
export const CLOSED = { additionalProperties: false } as const;
