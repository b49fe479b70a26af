// What a committed change did to each service, as subscribers are told (allocation_changed):
// derived from the ledgers before and after it and from who asked.
import type { AllocationChangedParams, ChangeCause, MethodName } from '../../schema/index.js';
import type { Ledger, ServiceRecord } from './ledger.js';

/** Who made a change: the service named in the request, and the method. */
export interface ChangeOrigin {
  readonly service: string;
  readonly method: MethodName;
}

function sameHoldings(a: ServiceRecord, b: ServiceRecord): boolean {
  return (
    a.cpus.equals(b.cpus) &&
    a.pool === b.pool &&
    a.hugepages.length === b.hugepages.length &&
    a.hugepages.every((h, i) => {
      const other = b.hugepages[i]!;
      return h.node_id === other.node_id && h.size_kb === other.size_kb && h.count === other.count;
    })
  );
}

function causeOf(service: string, origin: ChangeOrigin): ChangeCause {
  if (service !== origin.service) return 'preempted';
  return origin.method === 'release_service' ? 'released' : 'request';
}

/** One entry per service whose CPUs, pool or hugepage reservations differ after the change. */
export function allocationChanges(before: Ledger, after: Ledger, origin: ChangeOrigin): AllocationChangedParams[] {
  const changes: AllocationChangedParams[] = [];
  for (const service of after.touched) {
    const was = before.recordOf(service);
    const now = after.recordOf(service);
    if (sameHoldings(was, now)) continue;
    changes.push({
      service_name: service,
      pool: now.cpus.isEmpty() ? was.pool : now.pool,
      cores_before: was.cpus.toString(),
      cores_after: now.cpus.toString(),
      hugepages_before: was.hugepages.map((h) => ({ ...h })),
      hugepages_after: now.hugepages.map((h) => ({ ...h })),
      cause: causeOf(service, origin),
    });
  }
  return changes;
}
