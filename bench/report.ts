// What a run prints (markdown tables) and what `make bench` commits (bench/results.json).
import { cpus, hostname, platform, release, totalmem } from 'node:os';
import type { AllocatorRow, PolicyRow } from './allocator.js';
import { int, micros, nodes } from './format.js';
import { DAEMON_HOST, DAEMON_LEDGER, type Plan } from './plan.js';
import type { SocketRow } from './socket.js';
import type { Timing } from './stats.js';
import type { Target } from './targets.js';

export interface RunResults {
  readonly date: string;
  readonly mode: Plan['mode'];
  readonly machine: {
    readonly hostname: string;
    readonly cpu_model: string;
    readonly cpu_count: number;
    readonly memory_gib: number;
    readonly os: string;
    readonly node: string;
  };
  readonly allocator: readonly AllocatorRow[];
  /** The hosts with L3 domains: thread policies and explicit requests. */
  readonly allocator_l3: readonly PolicyRow[];
  readonly socket: {
    readonly daemon_host: typeof DAEMON_HOST;
    readonly daemon_ledger: typeof DAEMON_LEDGER;
    readonly window: number;
    readonly duration_ms: number;
    readonly rows: readonly SocketRow[];
  };
  readonly targets: readonly Target[];
}

export function machine(): RunResults['machine'] {
  const list = cpus();
  return {
    hostname: hostname(),
    cpu_model: list[0]?.model.trim() ?? 'unknown',
    cpu_count: list.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

const cell = (t: Timing) => `${micros(t.median_us)} / ${micros(t.p99_us)}`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const FIGURES = ['allocate_cores', 'allocate_numa_cores', 'list_cold', 'list_warm', 'reload', 'encode'] as const;
const FIGURE_NAMES: Record<(typeof FIGURES)[number], string> = {
  allocate_cores: 'allocate_cores',
  allocate_numa_cores: 'allocate_numa_cores',
  list_cold: 'list_allocations cold',
  list_warm: 'list_allocations warm',
  reload: 'reload (decode)',
  encode: 'encode',
};

/** Rows of timings: the columns that say what a row is, then a median / p99 cell per figure of `names`. */
function timingTable<F extends string, R extends Record<F, Timing>>(
  columns: readonly (readonly [string, (row: R) => string])[],
  names: Readonly<Record<F, string>>,
  rows: readonly R[],
): string {
  const figures = Object.keys(names) as F[];
  return table(
    [...columns.map(([title]) => title), ...figures.map((f) => `${names[f]} µs`)],
    rows.map((r) => [...columns.map(([, value]) => value(r)), ...figures.map((f) => cell(r[f]))]),
  );
}

export function allocatorTable(rows: readonly AllocatorRow[]): string {
  return timingTable<(typeof FIGURES)[number], AllocatorRow>(
    [
      ['CPUs', (r) => int(r.cpus)],
      ['nodes', (r) => String(r.nodes)],
      ['services', (r) => int(r.services)],
      ['CPU holders', (r) => int(r.cpu_holders)],
      ['state file', (r) => `${(r.state_bytes / 1024).toFixed(0)} KiB`],
    ],
    FIGURE_NAMES,
    rows,
  );
}

/** The figures of the hosts with L3 domains, in table order. */
export const POLICY_FIGURE_NAMES = {
  allocate_cores: 'allocate_cores prefer',
  allocate_cores_require: 'allocate_cores require',
  allocate_cores_isolate: 'allocate_cores isolate',
  allocate_numa_cores: 'allocate_numa_cores',
  explicitly_allocate_cores: 'explicitly_allocate_cores',
} as const satisfies Partial<Record<keyof PolicyRow, string>>;

export function policyTable(rows: readonly PolicyRow[]): string {
  return timingTable<keyof typeof POLICY_FIGURE_NAMES, PolicyRow>(
    [
      ['CPUs', (r) => int(r.cpus)],
      ['nodes', (r) => String(r.nodes)],
      ['L3 per node', (r) => String(r.l3_per_node)],
      ['services', (r) => int(r.services)],
      ['CPU holders', (r) => int(r.cpu_holders)],
    ],
    POLICY_FIGURE_NAMES,
    rows,
  );
}

/**
 * How each median grows: smallest to largest host at a fixed node and service count, and fewest
 * to most services on the largest host. Uses the largest node count every host size has.
 */
export function growthTable(rows: readonly AllocatorRow[]): string {
  const sizes = [...new Set(rows.map((r) => r.cpus))].sort((a, b) => a - b);
  const counts = [...new Set(rows.map((r) => r.services))].sort((a, b) => a - b);
  const atNodes = Math.max(...rows.filter((r) => r.cpus === sizes[0]).map((r) => r.nodes));
  const small = sizes[0] ?? 0;
  const big = sizes[sizes.length - 1] ?? 0;
  const few = counts[0] ?? 0;
  const many = counts[counts.length - 1] ?? 0;
  const mid = counts[Math.floor(counts.length / 2)] ?? 0;
  const find = (cpus: number, services: number) => rows.find((r) => r.cpus === cpus && r.nodes === atNodes && r.services === services);
  const growth = (a: AllocatorRow | undefined, b: AllocatorRow | undefined, f: (typeof FIGURES)[number]) =>
    a && b ? `×${(b[f].median_us / a[f].median_us).toFixed(1)} (${micros(a[f].median_us)} → ${micros(b[f].median_us)})` : 'n/a';
  return table(
    [
      'median',
      `${int(small)} → ${int(big)} CPUs (${nodes(atNodes)}, ${int(mid)} services)`,
      `${int(few)} → ${int(many)} services (${int(big)} CPUs, ${nodes(atNodes)})`,
    ],
    FIGURES.map((f) => [
      FIGURE_NAMES[f],
      growth(find(small, mid), find(big, mid), f),
      growth(find(big, few), find(big, many), f),
    ]),
  );
}

export function socketTable(rows: readonly SocketRow[]): string {
  return table(
    ['server', 'mix', 'connections', 'calls/s', 'p50 µs', 'p99 µs', 'vs echo'],
    rows.map((r) => [
      r.server,
      r.server === 'echo' ? '(read requests)' : r.mix,
      String(r.connections),
      int(r.calls_per_s),
      micros(r.p50_us),
      micros(r.p99_us),
      r.ratio_to_echo === null ? '1' : r.ratio_to_echo.toFixed(2),
    ]),
  );
}

export function targetTable(targets: readonly Target[]): string {
  return table(
    ['target', 'measured', 'result'],
    targets.map((t) => [t.name, t.measured, t.met ? 'met' : 'MISSED']),
  );
}

export function markdown(results: RunResults): string {
  const m = results.machine;
  return [
    `# epa-orchestrator benchmark (${results.mode})`,
    '',
    `${results.date} on ${m.hostname}: ${m.cpu_count} × ${m.cpu_model}, ${m.memory_gib} GiB, ${m.os}, node ${m.node}`,
    '',
    `## Daemon over its socket (window ${results.socket.window}, ${results.socket.duration_ms} ms per run)`,
    '',
    socketTable(results.socket.rows),
    '',
    '## Allocator, in process (median / p99 µs)',
    '',
    allocatorTable(results.allocator),
    '',
    '## Allocator with L3 domains: thread policies and explicit CPUs (median / p99 µs)',
    '',
    policyTable(results.allocator_l3),
    '',
    '## Growth of the medians',
    '',
    growthTable(results.allocator),
    '',
    '## Targets',
    '',
    targetTable(results.targets),
    '',
  ].join('\n');
}

/** results.json: numbers rounded so a rerun's diff shows changes, not noise digits. */
export function resultsJson(results: RunResults): string {
  const round = (_key: string, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
  return `${JSON.stringify(results, round, 2)}\n`;
}
