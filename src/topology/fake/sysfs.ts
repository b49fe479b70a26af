// Writes a described host as a sysfs tree, laid out as the reader expects and with the kernel's
// trailing newlines. A rewrite replaces each file by a rename, so a daemon reading the tree while
// a test changes counters never sees a half-written file.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FakeHost } from './host.js';
import { sysfsPaths } from '../sysfs-paths.js';
import type { HugepageCounter } from '../sysfs-paths.js';

/** Every file of the tree of `desc` under `dir`, with its content. */
function filesOf(desc: FakeHost, dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const put = (path: string, content: string | number) => files.set(path, `${content}\n`);
  if (desc.isolated) put(sysfsPaths.isolated(dir), desc.isolated.toString());
  if (desc.online) put(sysfsPaths.online(dir), desc.online.toString());
  if (desc.present) put(sysfsPaths.present(dir), desc.present.toString());
  for (const [cpu, threads] of desc.siblings) put(sysfsPaths.siblings(dir, cpu), threads.toString());
  for (const [cpu, caches] of desc.caches) {
    caches.forEach((cache, index) => {
      put(sysfsPaths.cacheLevel(dir, cpu, index), cache.level);
      put(join(dirname(sysfsPaths.cacheLevel(dir, cpu, index)), 'type'), cache.type);
      put(sysfsPaths.cacheSharedCpus(dir, cpu, index), cache.shared.toString());
    });
  }
  for (const node of desc.nodes ?? []) put(sysfsPaths.nodeCpulist(dir, node.id), node.cpus.toString());
  for (const pool of desc.hugepages) {
    const counter = (name: HugepageCounter) => sysfsPaths.hugepageCounter(dir, pool.node_id, pool.size_kb, name);
    put(counter('nr_hugepages'), pool.total);
    put(counter('free_hugepages'), pool.free_kernel);
  }
  return files;
}

function writeTree(desc: FakeHost, dir: string, replace: boolean): void {
  const files = filesOf(desc, dir);
  for (const parent of new Set([...files.keys()].map((path) => dirname(path)))) mkdirSync(parent, { recursive: true });
  for (const [path, content] of files) {
    if (!replace) {
      writeFileSync(path, content);
      continue;
    }
    const temp = `${path}.tmp`;
    writeFileSync(temp, content);
    renameSync(temp, path);
  }
}

/** Writes (or rewrites) the tree of `desc` under `dir`; files it does not describe are left alone. */
export function writeSysfs(desc: FakeHost, dir: string): void {
  writeTree(desc, dir, true);
}

export interface TempSysfs {
  /** The sysfs root to pass as `--sysfs`. */
  readonly path: string;
  /** Removes the tree. */
  readonly cleanup: () => void;
}

/** Writes `desc` into a new temporary directory. */
export function tempSysfs(desc: FakeHost): TempSysfs {
  const path = mkdtempSync(join(tmpdir(), 'epa-sysfs-'));
  // A new tree has no reader yet: plain writes, no renames.
  writeTree(desc, path, false);
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
