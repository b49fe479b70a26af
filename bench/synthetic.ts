// Synthetic hosts and ledgers for the benchmarks, built from the same host description the tests
// and the demo use, so the allocator sees exactly what the daemon would read from sysfs.
import { hostView, Ledger } from '../src/allocator/index.js';
import type { HostView, ServiceRecord } from '../src/allocator/index.js';
import { CpuSet } from '../src/cpuset/index.js';
import { fakeHost, topologyOf } from '../src/topology/fake/index.js';
import type { FakeHost } from '../src/topology/fake/index.js';
import type { HugepageCounters } from '../src/topology/index.js';

export interface HostShape {
  readonly cpus: number;
  readonly nodes: number;
  /** L3 caches per node (cores split evenly, as fakeHost's l3PerNode); none: no cache files, one domain per node. */
  readonly l3PerNode?: number;
}

export interface SyntheticHost {
  readonly shape: HostShape;
  readonly desc: FakeHost;
  readonly host: HostView;
  readonly pools: readonly HugepageCounters[];
}

/** Size of the 2 MiB pool on every node: room for every reservation a ledger here makes. */
const SMALL_PAGES = 1_000_000;
export const SMALL_PAGE_KB = 2048;

/**
 * A host of `cpus` CPUs on `nodes` NUMA nodes, 2 SMT threads per core (cpu i and i + cpus/2 are
 * siblings). The pool is every CPU but core 0 (the host's housekeeping core). Every node has a
 * 2 MiB pool of a million pages and a 1 GiB pool of 64, and `l3PerNode` L3 domains when given.
 */
export function describeHost(shape: HostShape): FakeHost {
  const threads = 2;
  const coresPerNode = shape.cpus / (shape.nodes * threads);
  if (!Number.isInteger(coresPerNode) || coresPerNode < 1) {
    throw new RangeError(`no host of ${shape.cpus} CPUs on ${shape.nodes} nodes with whole 2-thread cores`);
  }
  const pool = CpuSet.range(0, shape.cpus - 1).difference(CpuSet.of(0, shape.cpus / threads));
  return fakeHost({
    nodes: shape.nodes,
    coresPerNode,
    threads,
    pool: pool.toString(),
    ...(shape.l3PerNode === undefined ? {} : { l3PerNode: shape.l3PerNode }),
    hugepages: Array.from({ length: shape.nodes }, (_, node) => [
      { node, sizeKb: SMALL_PAGE_KB, total: SMALL_PAGES, free: SMALL_PAGES },
      { node, sizeKb: 1_048_576, total: 64, free: 64 },
    ]).flat(),
  });
}

/** The host the daemon would read from desc written out as a sysfs tree. */
export function syntheticHost(shape: HostShape): SyntheticHost {
  const desc = describeHost(shape);
  const topology = topologyOf(desc);
  return { shape, desc, host: hostView(topology), pools: desc.hugepages };
}

export function serviceName(i: number): string {
  return `svc-${String(i).padStart(5, '0')}`;
}

export interface LedgerShape {
  readonly services: number;
  /** Share of each node's pool cores that services hold; the rest stays free. */
  readonly heldShare: number;
}

export interface SyntheticLedger {
  readonly ledger: Ledger;
  /** Services that hold CPUs; the others hold only hugepages. */
  readonly cpuHolders: number;
}

/**
 * A ledger of `services` services. The first `heldShare` of each node's pool cores are held;
 * those CPUs (node by node, whole cores) are dealt out in equal blocks of whole cores to as many
 * services as there are cores to go round (at most `services`), so a holder's CPUs sit on one node
 * or two. Odd-numbered holders hold theirs explicitly (as allocate_numa_cores leaves them), even
 * ones automatically. Every service, holder or not, reserves 1–4 pages of 2 MiB on node
 * (i mod nodes).
 */
export function syntheticLedger(target: SyntheticHost, shape: LedgerShape): SyntheticLedger {
  const { topology, pool } = target.host;
  const held: number[] = [];
  for (const node of topology.nodes) {
    const cores = topology.cores.filter((core) => core.node === node.id && core.threads.isSubsetOf(pool.eligible));
    for (const core of cores.slice(0, Math.floor(cores.length * shape.heldShare))) held.push(...core.threads);
  }
  const coresHeld = held.length / 2;
  const cpuHolders = Math.min(shape.services, coresHeld);
  const block = cpuHolders === 0 ? 0 : 2 * Math.floor(coresHeld / cpuHolders);
  const records: [string, ServiceRecord][] = [];
  for (let i = 0; i < shape.services; i++) {
    const cpus = i < cpuHolders ? CpuSet.from(held.slice(i * block, (i + 1) * block)) : CpuSet.EMPTY;
    records.push([
      serviceName(i),
      {
        cpus,
        explicit: i % 2 === 1 ? cpus : CpuSet.EMPTY,
        policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY,
        pool: 'isolated',
        hugepages: [{ node_id: i % topology.nodes.length, size_kb: SMALL_PAGE_KB, count: 1 + (i % 4) }],
      },
    ]);
  }
  return { ledger: Ledger.fromRecords(records), cpuHolders };
}
