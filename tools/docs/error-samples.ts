// Each domain error as the daemon makes it: every factory of schema/errors.ts called with values
// of the sample host, so the reference shows its real sentence and its real `error.data` members.
// The mapped type makes a new factory a compile error here until it has a sample.
import { DomainErrors, type DomainError } from '../../schema/index.js';

type Factories = typeof DomainErrors;

const SAMPLES: { readonly [F in keyof Factories]: readonly DomainError[] } = {
  noIsolatedCpus: [
    DomainErrors.noIsolatedCpus(),
    DomainErrors.noIsolatedCpus('/sys/devices/system/cpu/isolated: invalid cpulist "2-": bad item "2-"'),
  ],
  insufficientCpus: [DomainErrors.insufficientCpus(9, 8)],
  insufficientNumaCpus: [DomainErrors.insufficientNumaCpus(1, 5, 3, 'isolated')],
  insufficientWholeCores: [DomainErrors.insufficientWholeCores(6, 2, 4, 'require'), DomainErrors.insufficientWholeCores(3, 2, 4, 'isolate')],
  noRequestedCpus: [DomainErrors.noRequestedCpus(2, '8,24')],
  numaNodeNotFound: [DomainErrors.numaNodeNotFound(7)],
  hugepageNodeNotFound: [DomainErrors.hugepageNodeNotFound(3)],
  numaTopologyUnavailable: [DomainErrors.numaTopologyUnavailable()],
  hugepageSizeNotFound: [DomainErrors.hugepageSizeNotFound(0, 4096)],
  insufficientHugepages: [DomainErrors.insufficientHugepages(0, 2048, 10, 5)],
  policyConflict: [DomainErrors.policyConflict()],
  cpusUnavailable: [DomainErrors.cpusUnavailable('6-7')],
  poolNotFound: [DomainErrors.poolNotFound('general')],
  stateWriteFailed: [DomainErrors.stateWriteFailed('ENOSPC', 'unchanged'), DomainErrors.stateWriteFailed('EIO', 'uncertain')],
  poolConflict: [DomainErrors.poolConflict('general')],
};

/** What each member of a domain error's `data` says. */
export const DATA_MEMBERS: Readonly<Record<string, string>> = {
  reason: 'The name of the error; always present',
  requested: 'CPUs asked for; for hugepages, the pages added to the current reservation',
  available: 'CPUs that could be given; for hugepages, the free pages',
  numa_node: 'The node of the request',
  whole_cores_available: 'Whole physical cores free for a require or isolate request (an isolate request needs one per CPU)',
  cores_rejected: 'explicitly_allocate_cores: the requested CPUs, none of which could be given',
  node_id: 'The node of the request',
  size_kb: 'The hugepage size of the request',
  unavailable_reason: 'Why the pool hands out nothing at all (a degraded start); absent when the pool is simply empty',
  cpus: "The protected service's CPUs that are no longer eligible",
  pool: 'The pool named (POOL_NOT_FOUND), or the one the service holds CPUs in (POOL_CONFLICT)',
  disk_state: '"unchanged": the state file holds the state before the change; "uncertain": it may hold the change',
};

/** Every sample, in the order of the codes (-32001 first). Fails when DATA_MEMBERS is out of date. */
export function domainErrorSamples(): DomainError[] {
  const samples = Object.values(SAMPLES)
    .flat()
    .sort((a, b) => b.code - a.code);
  const used = new Set(samples.flatMap((e) => Object.keys(e.data)));
  const stale = [...used].filter((m) => !(m in DATA_MEMBERS)).concat(Object.keys(DATA_MEMBERS).filter((m) => !used.has(m)));
  if (stale.length > 0) throw new Error(`DATA_MEMBERS is out of date (tools/docs/error-samples.ts): ${stale.join(', ')}`);
  return samples;
}
