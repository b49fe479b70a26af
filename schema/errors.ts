// Every error code of the API, declared once (docs/api.md, errors), with the factories that give
// each domain error its exact sentence. The RPC layer answers a DomainError as {code, message, data}.
import { Type } from 'typebox';
import type { Static } from 'typebox';

/** The standard JSON-RPC 2.0 errors, with the spec's messages. */
export const JSONRPC_ERRORS = {
  PARSE_ERROR: { code: -32700, message: 'Parse error' },
  INVALID_REQUEST: { code: -32600, message: 'Invalid Request' },
  METHOD_NOT_FOUND: { code: -32601, message: 'Method not found' },
  INVALID_PARAMS: { code: -32602, message: 'Invalid params' },
  INTERNAL_ERROR: { code: -32603, message: 'Internal error' },
} as const;

/** Domain errors: `error.data.reason` → code, and when it is answered. */
export const DOMAIN_ERRORS = {
  NO_ISOLATED_CPUS: { code: -32001, summary: 'The pool is empty' },
  INSUFFICIENT_CPUS: { code: -32002, summary: 'Not enough CPUs for the request' },
  NUMA_NODE_NOT_FOUND: { code: -32003, summary: 'Unknown NUMA node' },
  NUMA_TOPOLOGY_UNAVAILABLE: { code: -32004, summary: 'The host exposes no NUMA nodes' },
  HUGEPAGE_SIZE_NOT_FOUND: { code: -32005, summary: 'No hugepage pool of that size on the node' },
  INSUFFICIENT_HUGEPAGES: { code: -32006, summary: 'The added reservation exceeds the free hugepages' },
  POLICY_CONFLICT: { code: -32007, summary: 'Legacy policy asked while protected CPUs are held' },
  CPUS_UNAVAILABLE: { code: -32008, summary: 'A protected service holds CPUs that are no longer eligible' },
  POOL_NOT_FOUND: { code: -32009, summary: 'Unknown or unconfigured CPU pool' },
  STATE_WRITE_FAILED: {
    code: -32010,
    summary: 'The change could not be made durable: not applied, and data.disk_state says whether the state file may still hold it',
  },
  POOL_CONFLICT: { code: -32011, summary: 'The service holds CPUs in the other pool' },
} as const;

export type ErrorReason = keyof typeof DOMAIN_ERRORS;
export const ERROR_REASONS = Object.keys(DOMAIN_ERRORS) as ErrorReason[];

// Wire shapes of errors.

export const ValidationIssue = Type.Object({
  path: Type.String({ description: 'JSON Pointer to the offending param, e.g. "/num_of_cores"' }),
  message: Type.String(),
});
export type ValidationIssue = Static<typeof ValidationIssue>;

/** `error.data` of -32602. */
export const InvalidParamsData = Type.Object({ errors: Type.Array(ValidationIssue) });
export type InvalidParamsData = Static<typeof InvalidParamsData>;

/** `error.data` of a domain error; some reasons add fields such as `requested` and `available`. */
export const DomainErrorData = Type.Object({
  reason: Type.Enum(ERROR_REASONS),
  requested: Type.Optional(Type.Integer()),
  available: Type.Optional(Type.Integer()),
});
export type DomainErrorData = Static<typeof DomainErrorData> & Record<string, unknown>;

export const ErrorObject = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
export type ErrorObject = Static<typeof ErrorObject>;

export class DomainError extends Error {
  readonly code: number;
  readonly data: DomainErrorData;

  constructor(
    readonly reason: ErrorReason,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.code = DOMAIN_ERRORS[reason].code;
    this.data = { reason, ...extra };
  }

  toJSON(): ErrorObject {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** One factory per failure, so every caller produces the same exact sentence. */
export const DomainErrors = {
  /** `unavailable`: why the pool hands out nothing at all (a degraded start), when that is the cause. */
  noIsolatedCpus: (unavailable: string | null = null) =>
    new DomainError('NO_ISOLATED_CPUS', 'No CPUs available', unavailable === null ? {} : { unavailable_reason: unavailable }),

  insufficientCpus: (requested: number, available: number) =>
    new DomainError(
      'INSUFFICIENT_CPUS',
      `Insufficient CPUs available. Requested: ${requested}, Available: ${available}`,
      { requested, available },
    ),

  /** The require and isolate thread policies: N CPUs cannot be made of the whole cores that are free. */
  insufficientWholeCores: (requested: number, wholeCores: number, wholeCoreCpus: number, policy: string) =>
    new DomainError(
      'INSUFFICIENT_CPUS',
      policy === 'isolate'
        ? `Insufficient whole cores available for cpu_thread_policy isolate. Requested: ${requested}, whole cores available: ${wholeCores}`
        : `Insufficient whole cores available for cpu_thread_policy require. Requested: ${requested} CPUs, whole cores available: ${wholeCores} (${wholeCoreCpus} CPUs)`,
      { requested, available: policy === 'isolate' ? wholeCores : wholeCoreCpus, whole_cores_available: wholeCores },
    ),

  /** explicitly_allocate_cores when none of the requested CPUs can be given (the Python snap's sentence). */
  noRequestedCpus: (requested: number, rejected: string) =>
    new DomainError(
      'INSUFFICIENT_CPUS',
      `Failed to allocate requested explicit cores; conflicts with existing explicit allocations: ${rejected}`,
      { requested, available: 0, cores_rejected: rejected },
    ),

  /** The Python snap's sentence, naming the pool's kind of CPUs ("isolated" or "general"). */
  insufficientNumaCpus: (numaNode: number, requested: number, available: number, pool: string) =>
    new DomainError(
      'INSUFFICIENT_CPUS',
      `NUMA node ${numaNode} only has ${available} ${pool} CPUs, but ${requested} were requested`,
      { requested, available, numa_node: numaNode },
    ),

  /** allocate_numa_cores on a node the host does not have. */
  numaNodeNotFound: (numaNode: number) =>
    new DomainError('NUMA_NODE_NOT_FOUND', `NUMA node ${numaNode} does not exist`, { numa_node: numaNode }),

  /** allocate_hugepages on a node the host does not have (the Python snap's wording). */
  hugepageNodeNotFound: (nodeId: number) =>
    new DomainError('NUMA_NODE_NOT_FOUND', `NUMA node ${nodeId} not found`, { node_id: nodeId }),

  numaTopologyUnavailable: () =>
    new DomainError('NUMA_TOPOLOGY_UNAVAILABLE', 'NUMA topology is not available on this host'),

  hugepageSizeNotFound: (nodeId: number, sizeKb: number) =>
    new DomainError('HUGEPAGE_SIZE_NOT_FOUND', `Hugepage size ${sizeKb} KB not found on node ${nodeId}`, {
      node_id: nodeId,
      size_kb: sizeKb,
    }),

  /** `requested` is the increase over the current reservation; `available` the free pages. */
  insufficientHugepages: (nodeId: number, sizeKb: number, requested: number, available: number) =>
    new DomainError(
      'INSUFFICIENT_HUGEPAGES',
      `NUMA node ${nodeId} size ${sizeKb} KB only has ${available} free hugepages, requested additional ${requested}`,
      { requested, available, node_id: nodeId, size_kb: sizeKb },
    ),

  policyConflict: () =>
    new DomainError('POLICY_CONFLICT', 'Fully release protected claims before selecting legacy policy'),

  /** `cpus` is the cpulist of the protected service's CPUs that are no longer eligible. */
  cpusUnavailable: (cpus: string) =>
    new DomainError(
      'CPUS_UNAVAILABLE',
      `CPUs ${cpus} of this protected allocation are no longer available; release them first`,
      { cpus },
    ),

  poolNotFound: (pool: string) =>
    new DomainError('POOL_NOT_FOUND', `CPU pool ${pool} does not exist or is not configured`, { pool }),

  /**
   * `detail` says why the write failed (the errno code); `disk` what the state file holds: the
   * last saved state ("unchanged"), or maybe this change, until it can be written again ("uncertain").
   */
  stateWriteFailed: (detail: string, disk: 'unchanged' | 'uncertain') =>
    new DomainError(
      'STATE_WRITE_FAILED',
      disk === 'unchanged'
        ? `The change could not be saved (${detail}); nothing was changed`
        : `The change could not be saved (${detail}), and the state file may still hold it until it can be written again; changes are refused meanwhile`,
      { disk_state: disk },
    ),

  /** `heldPool` is the pool the service already holds CPUs in. */
  poolConflict: (heldPool: string) =>
    new DomainError(
      'POOL_CONFLICT',
      `The service holds CPUs in pool ${heldPool}; release that allocation in its pool first`,
      { pool: heldPool },
    ),
} as const;
