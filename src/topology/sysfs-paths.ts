// Where each fact lives under the sysfs root. The reader and the fake-host writer both
// use these, so a test tree has exactly the layout the daemon reads.
import { join } from 'node:path';

export type HugepageCounter = 'nr_hugepages' | 'free_hugepages';

const NODE_DIR = /^node(\d+)$/;
const HUGEPAGE_DIR = /^hugepages-(\d+)kB$/;
const CACHE_INDEX_DIR = /^index(\d+)$/;

export const sysfsPaths = {
  isolated: (root: string) => join(root, 'devices/system/cpu/isolated'),
  online: (root: string) => join(root, 'devices/system/cpu/online'),
  present: (root: string) => join(root, 'devices/system/cpu/present'),
  siblings: (root: string, cpu: number) => join(root, `devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`),
  /** The CPU's cache descriptions: one `index<N>` directory per cache (L1d, L1i, L2, L3, …). */
  caches: (root: string, cpu: number) => join(root, `devices/system/cpu/cpu${cpu}/cache`),
  cacheLevel: (root: string, cpu: number, index: number) => join(root, `devices/system/cpu/cpu${cpu}/cache/index${index}/level`),
  cacheSharedCpus: (root: string, cpu: number, index: number) => join(root, `devices/system/cpu/cpu${cpu}/cache/index${index}/shared_cpu_list`),
  nodes: (root: string) => join(root, 'devices/system/node'),
  nodeCpulist: (root: string, node: number) => join(root, `devices/system/node/node${node}/cpulist`),
  hugepages: (root: string, node: number) => join(root, `devices/system/node/node${node}/hugepages`),
  hugepageCounter: (root: string, node: number, sizeKb: number, counter: HugepageCounter) =>
    join(root, `devices/system/node/node${node}/hugepages/hugepages-${sizeKb}kB/${counter}`),
};

/** The number in a `node<N>` entry name, or undefined for other entries (`possible`, `online`, …). */
export function nodeIdOf(entry: string): number | undefined {
  const match = NODE_DIR.exec(entry);
  return match ? Number(match[1]) : undefined;
}

/** The size in a `hugepages-<K>kB` entry name, or undefined for other entries. */
export function hugepageSizeOf(entry: string): number | undefined {
  const match = HUGEPAGE_DIR.exec(entry);
  return match ? Number(match[1]) : undefined;
}

/** The number in an `index<N>` entry of a CPU's cache directory, or undefined for other entries (`uevent`, …). */
export function cacheIndexOf(entry: string): number | undefined {
  const match = CACHE_INDEX_DIR.exec(entry);
  return match ? Number(match[1]) : undefined;
}
