// The targets of issue 6, reported (never asserted): each with what was measured and met/missed.
// A target is judged on the largest figure of the run that it names (the smoke run has no
// 4096-CPU host or 64 connections), and the target line says which one that was.
import type { AllocatorRow, PolicyRow } from './allocator.js';
import { int, micros, nodes } from './format.js';
import { POLICY_FIGURE_NAMES } from './report.js';
import type { SocketRow } from './socket.js';
import type { Timing } from './stats.js';

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly met: boolean;
}

const us = (v: number) => `${micros(v)} µs`;
const perS = (v: number) => `${int(v)} calls/s`;

function worst<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>((w, item) => (w === undefined || value(item) > value(w) ? item : w), undefined);
}

const ALLOCATOR_CALLS = ['allocate_cores', 'allocate_numa_cores', 'list_warm'] as const;

export function evaluateTargets(allocator: readonly AllocatorRow[], allocatorL3: readonly PolicyRow[], socket: readonly SocketRow[]): Target[] {
  const targets: Target[] = [];

  const readTargets = [
    { mix: 'list', method: 'list_allocations', share: 0.5, says: '½' },
    { mix: 'memory', method: 'get_memory_info', share: 0.7, says: '0.7' },
  ] as const;
  for (const { mix, method, share, says } of readTargets) {
    for (const read of socket.filter((r) => r.server === 'daemon' && r.mix === mix)) {
      const ratio = read.ratio_to_echo ?? 0;
      targets.push({
        name: `${method} ≥ ${says} of the echo server's calls/s (${read.connections} conn.)`,
        measured: `${perS(read.calls_per_s)} = ${ratio.toFixed(2)} × echo`,
        met: ratio >= share,
      });
    }
  }

  const writes = socket.filter((r) => r.server === 'daemon' && r.mix === 'write');
  const mostConnections = Math.max(...writes.map((r) => r.connections));
  for (const write of writes.filter((r) => r.connections === mostConnections)) {
    targets.push({
      name: `writes ≥ 2,000 calls/s with ${write.connections} connections`,
      measured: perS(write.calls_per_s),
      met: write.calls_per_s >= 2000,
    });
  }

  const biggest = Math.max(...allocator.map((r) => r.cpus));
  const calls = allocator
    .filter((r) => r.cpus === biggest)
    .flatMap((row) => ALLOCATOR_CALLS.map((figure) => ({ row, figure, timing: row[figure] })));
  const slowest = worst(calls, (c) => c.timing.median_us);
  if (slowest) {
    const { row, figure, timing } = slowest;
    targets.push({
      name: `allocator calls on the ${int(biggest)}-CPU host < 100 µs median`,
      measured: `slowest: ${figure} ${us(timing.median_us)} (${nodes(row.nodes)}, ${int(row.services)} services)`,
      met: timing.median_us < 100,
    });
  }

  // The L3 steps and the thread policies, on the largest host with L3 domains: every figure of it.
  const biggestL3 = Math.max(...allocatorL3.map((r) => r.cpus));
  const l3Figures = Object.entries(POLICY_FIGURE_NAMES) as [keyof typeof POLICY_FIGURE_NAMES, string][];
  const l3Calls = allocatorL3
    .filter((r) => r.cpus === biggestL3)
    .flatMap((row) => l3Figures.map(([figure, name]) => ({ row, name, timing: row[figure] })));
  const slowestL3 = worst(l3Calls, (c) => c.timing.median_us);
  if (slowestL3) {
    const { row, name, timing } = slowestL3;
    targets.push({
      name: `allocator calls on ${int(row.cpus)} CPUs / ${nodes(row.nodes)} with ${row.l3_per_node} L3 domains per node < 100 µs median`,
      measured: `slowest: ${name} ${us(timing.median_us)} (${int(row.services)} services)`,
      met: timing.median_us < 100,
    });
  }

  const most = Math.max(...allocator.map((r) => r.services));
  const lists = allocator.filter((r) => r.services === most);
  const slowestList = worst(lists, (r) => r.list_cold.median_us);
  if (slowestList) {
    const cold: Timing = slowestList.list_cold;
    targets.push({
      name: `list_allocations (cold) with ${int(most)} services < 20 ms median`,
      measured: `slowest: ${(cold.median_us / 1000).toFixed(2)} ms, p99 ${(cold.p99_us / 1000).toFixed(2)} ms (${int(slowestList.cpus)} CPUs, ${nodes(slowestList.nodes)})`,
      met: cold.median_us < 20_000,
    });
  }
  return targets;
}
