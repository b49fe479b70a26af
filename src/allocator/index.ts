export { Ledger, EMPTY_RECORD, isEmptyRecord, hugepageKey } from './ledger.js';
export type { HugepageReservation, LedgerChanges, PoolName, PreemptionPolicy, ServiceRecord } from './ledger.js';
export { hostOf, poolNamed, policyOf, totals } from './host.js';
export type { Host, HostOptions, Plan, Pool } from './host.js';
export { allocateCores, allocateCoresPercent, allocateNumaCores, releaseService, defaultCoreCount } from './cores.js';
export { allocateHugepages, memoryInfo, freeHugepages } from './hugepages.js';
export { listAllocations, topologyView } from './views.js';
export { pickByCores, placeCount } from './placement.js';
