// The only sysfs reader: the CPU topology (at start and on SIGHUP) and the hugepage counters. The
// fake hosts that tests, the bench and the demo write out as sysfs trees are another entry,
// src/topology/fake, which nothing else in src/ imports.
export type { HugepageCounters, NumaNode, PhysicalCore, Topology } from './topology.js';
export { TopologyError } from './errors.js';
export { readOnline, readPresent, readTopology } from './read.js';
export type { ReadOptions } from './read.js';
export { sysfsPaths } from './sysfs-paths.js';
export { readHugepageCounters } from './hugepages.js';
