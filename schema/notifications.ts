// What the daemon sends unasked: JSON-RPC notifications to the connections that called
// `subscribe`. One per changed service, in commit order, once the change is durable.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { CpuList, HugepageEntry, PoolField, ServiceName } from './common.js';

export const ALLOCATION_CHANGED = 'allocation_changed';

/**
 * Why a service's holdings changed: its own call ("request"; "released" for release_service),
 * or another service's NUMA request that took its automatic CPUs ("preempted").
 */
export const CHANGE_CAUSES = ['request', 'preempted', 'released'] as const;
export type ChangeCause = (typeof CHANGE_CAUSES)[number];

export const AllocationChangedParams = Type.Object({
  service_name: ServiceName,
  pool: Type.With(PoolField, { description: 'The pool of the CPUs before or after (after, while it holds any)' }),
  cores_before: Type.With(CpuList, { description: 'The CPUs the service held before the change' }),
  cores_after: Type.With(CpuList, { description: 'The CPUs it holds now' }),
  hugepages_before: Type.Array(HugepageEntry, { description: 'Its hugepage reservations before the change' }),
  hugepages_after: Type.Array(HugepageEntry, { description: 'Its hugepage reservations now' }),
  cause: Type.Enum(CHANGE_CAUSES, {
    description:
      '"request": its own call; "released": its release_service; "preempted": another service\'s NUMA request took its CPUs',
  }),
});
export type AllocationChangedParams = Static<typeof AllocationChangedParams>;

export const NOTIFICATIONS = [
  {
    name: ALLOCATION_CHANGED,
    summary: 'Sent by the daemon to subscribed connections: one service\'s CPUs or hugepage reservations changed',
    params: AllocationChangedParams,
  },
] as const;
