export { CpuSet, MAX_CPUS } from './cpuset.js';
export { CpuListError, parseCpuList, formatCpuList } from './cpulist.js';
