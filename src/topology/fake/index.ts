// Fake hosts for the tests, the bench and the demo: a host described in a few numbers, its sysfs
// tree written to disk, and the topology the daemon would read from it. Not for the daemon itself.
export { fakeHost, topologyOf } from './host.js';
export type { FakeCache, FakeHost, FakeHostSpec, HugepageSpec } from './host.js';
export { tempSysfs, writeSysfs } from './sysfs.js';
export type { TempSysfs } from './sysfs.js';
export { SAMPLE_HOST } from './sample.js';
