export { Ledger } from './ledger.js';
export type { HugepageReservation, PoolName, PreemptionPolicy, ServiceRecord } from './ledger.js';
export { hostView, policyOf, totals } from './host-view.js';
export type { HostView, Plan, Pool } from './host-view.js';
export { allocateCores, allocateCoresPercent, allocateNumaCores, releaseService } from './cores.js';
export { allocateHugepages, memoryInfo } from './hugepages.js';
export { listAllocations, topologyView } from './reads.js';
export { generalPoolProblem, leftOutProblem } from './pool-config.js';
