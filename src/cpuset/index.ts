export { CpuSet, MAX_CPUS } from './cpuset.js';
export { CpuListError, parseCpuList } from './cpulist.js';
