// `make bench` (node dist/bench/run.js): measures the daemon over its socket and the allocator in
// process, prints markdown tables on stdout (progress on stderr) and writes bench/results.json.
// `--smoke` runs a small matrix with tiny budgets, to check the bench still works, and writes
// nothing.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchAllocator, benchPolicies } from './allocator.js';
import { FULL, SMOKE, DAEMON_HOST, DAEMON_LEDGER } from './plan.js';
import { micros } from './format.js';
import { machine, markdown, resultsJson, type RunResults } from './report.js';
import { benchSocket } from './socket.js';
import { evaluateTargets } from './targets.js';

const RESULTS = fileURLToPath(new URL('../../bench/results.json', import.meta.url));

const args = process.argv.slice(2);
if (args.some((a) => a !== '--smoke')) {
  process.stderr.write('usage: node dist/bench/run.js [--smoke]\n');
  process.exit(2);
}
const plan = args.includes('--smoke') ? SMOKE : FULL;
const progress = (text: string) => process.stderr.write(`${text}\n`);
const started = Date.now();

const socket = await benchSocket(plan, (r) =>
  progress(`socket ${r.server} ${r.mix} ×${r.connections}: ${Math.round(r.calls_per_s)} calls/s, p99 ${micros(r.p99_us)} µs`),
);
const allocator = benchAllocator(plan, (r) =>
  progress(`allocator ${r.cpus} CPUs / ${r.nodes} nodes / ${r.services} services: list cold ${micros(r.list_cold.median_us)} µs`),
);
const allocatorL3 = benchPolicies(plan, (r) => {
  const isolate = micros(r.allocate_cores_isolate.median_us);
  progress(`allocator ${r.cpus} CPUs / ${r.nodes} nodes × ${r.l3_per_node} L3 / ${r.services} services: isolate ${isolate} µs`);
});

const results: RunResults = {
  date: new Date().toISOString(),
  mode: plan.mode,
  machine: machine(),
  allocator,
  allocator_l3: allocatorL3,
  socket: {
    daemon_host: DAEMON_HOST,
    daemon_ledger: DAEMON_LEDGER,
    window: plan.socket.window,
    duration_ms: plan.socket.durationMs,
    rows: socket,
  },
  targets: evaluateTargets(allocator, allocatorL3, socket),
};
process.stdout.write(markdown(results));
if (plan.mode === 'full') {
  writeFileSync(RESULTS, resultsJson(results));
  progress(`wrote ${RESULTS}`);
}
progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
