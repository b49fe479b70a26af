// The replies of the Python daemon (the newest snap, with pools and policies), field by field with
// their types, as its pydantic response models declare them and as its clients read them. A reply
// of ours must carry every one of these fields with the same type; extra fields are fine
// (pydantic ignores them). Written from the models' field lists, as TypeBox schemas so that ajv
// checks them.
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { Type, type TSchema } from 'typebox';

const PoolName = Type.Enum(['isolated', 'general']);
const Policy = Type.Enum(['legacy', 'non-preemptive']);
const OptionalPolicy = Type.Union([Policy, Type.Null()]);
const Version = Type.Literal('1.0');

export const AllocateCoresResponse = Type.Object({
  pool: PoolName,
  version: Version,
  preemption_policy: OptionalPolicy,
  service_name: Type.String(),
  num_of_cores: Type.Integer(),
  cores_allocated: Type.Integer(),
  allocated_cores: Type.String(),
  shared_cpus: Type.String(),
  total_available_cpus: Type.Integer(),
  remaining_available_cpus: Type.Integer(),
});

export const AllocateCoresPercentResponse = Type.Object({
  pool: PoolName,
  version: Version,
  preemption_policy: OptionalPolicy,
  service_name: Type.String(),
  cores_allocated_count: Type.Integer(),
  allocated_cores: Type.String(),
  total_available_cpus: Type.Integer(),
  remaining_available_cpus: Type.Integer(),
});

const AllocateNumaCoresResponse = Type.Object({
  pool: PoolName,
  version: Version,
  preemption_policy: OptionalPolicy,
  service_name: Type.String(),
  numa_node: Type.Integer(),
  num_of_cores: Type.Integer(),
  cores_allocated: Type.String(),
  total_available_cpus: Type.Integer(),
  remaining_available_cpus: Type.Integer(),
});

const SnapAllocation = Type.Object({
  pool: PoolName,
  // Not Optional in the Python model: a listed service always has a policy there.
  preemption_policy: Policy,
  service_name: Type.String(),
  allocated_cores: Type.String(),
  cores_count: Type.Integer(),
  is_explicit: Type.Boolean(),
});

const ListAllocationsResponse = Type.Object({
  supported_cpu_features: Type.Array(Type.String()),
  pool: PoolName,
  version: Version,
  total_allocations: Type.Integer(),
  total_allocated_cpus: Type.Integer(),
  total_available_cpus: Type.Integer(),
  remaining_available_cpus: Type.Integer(),
  allocations: Type.Array(SnapAllocation),
  cpu_pool: Type.Object({
    source: Type.Enum(['isolated', 'configured']),
    configured_cpus: Type.String(),
    eligible_cpus: Type.String(),
    unavailable_allocated_cpus: Type.String(),
  }),
});

const MemoryInfoResponse = Type.Object({
  version: Version,
  service_name: Type.String(),
  numa_hugepages: Type.Record(
    Type.String(),
    Type.Object({
      capacity: Type.Array(Type.Object({ total: Type.Integer(), free: Type.Integer(), size: Type.Integer() })),
      allocations: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer())),
    }),
  ),
});

const AllocateHugepagesResponse = Type.Object({
  version: Version,
  service_name: Type.String(),
  hugepages_requested: Type.Integer(),
  allocation_successful: Type.Boolean(),
  message: Type.String(),
  node_id: Type.Integer(),
  size_kb: Type.Integer(),
});

/** The short-lived action of August 2025 (ExplicitlyAllocateCoresResponse): cpulists as strings. */
const ExplicitlyAllocateCoresResponse = Type.Object({
  version: Version,
  service_name: Type.String(),
  cores_requested: Type.String(),
  cores_allocated: Type.String(),
  total_available_cpus: Type.Integer(),
  remaining_available_cpus: Type.Integer(),
});

const ErrorResponse = Type.Object({ version: Version, error: Type.String() });

/** The Python daemon's actions and the reply model of each. */
export const PYTHON_REPLIES = {
  allocate_cores: AllocateCoresResponse,
  allocate_cores_percent: AllocateCoresPercentResponse,
  allocate_numa_cores: AllocateNumaCoresResponse,
  explicitly_allocate_cores: ExplicitlyAllocateCoresResponse,
  list_allocations: ListAllocationsResponse,
  get_memory_info: MemoryInfoResponse,
  allocate_hugepages: AllocateHugepagesResponse,
} as const satisfies Record<string, TSchema>;

export type PythonAction = keyof typeof PYTHON_REPLIES;

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map(Object.entries(PYTHON_REPLIES).map(([action, schema]) => [action, ajv.compile(schema)]));
const validateError = ajv.compile(ErrorResponse);

/** Fails unless the reply has every field of the Python daemon's reply to `action`, typed as there. */
export function expectPythonReply(action: PythonAction, reply: unknown): void {
  const validate = validators.get(action)!;
  if (!validate(reply)) expect.fail(`${action} reply lacks a field of the Python reply: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(reply)}`);
}

/** Fails unless the reply is the Python daemon's error reply: {"version":"1.0","error":"…"}. */
export function expectPythonError(reply: unknown): string {
  if (!validateError(reply)) expect.fail(`not an error reply: ${JSON.stringify(reply)}`);
  return (reply as { error: string }).error;
}
