// The daemon's Prometheus metrics (prom-client). The figures of the host, the pools, the services
// and the hugepages are computed when scraped, by the very functions that answer list_allocations
// and get_memory_info (memoised per ledger), so the two always agree. Requests are tallied in plain
// numbers as they are answered (request-tally.ts) and turned into families when scraped; state
// writes, rare, go to prom-client as they happen.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AllocationChangedParams, MethodName } from '../../schema/index.js';
import { listAllocations, memoryInfo, type HostView, type Ledger } from '../allocator/index.js';
import { parseCpuList } from '../cpuset/index.js';
import type { HugepageCounters } from '../topology/index.js';
import { RequestTally } from './request-tally.js';

/** What the metrics are read from: the daemon as it is now. */
export interface MetricsSource {
  hostView(): HostView;
  ledger(): Ledger;
  hugepageCounters(use: 'read'): readonly HugepageCounters[];
  /** Client connections open now. */
  connections(): number;
}

/** Request latencies run from microseconds (reads) to tens of milliseconds (fsyncs). */
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const WRITE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const sizeOf = (cpulist: string): number => parseCpuList(cpulist).size;

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #requests = new RequestTally(REQUEST_BUCKETS);
  readonly #writes: Counter;
  readonly #writeFailures: Counter;
  readonly #writeDurations: Histogram;
  readonly #preemptions: Counter;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'epa_pool_cpus',
      help: 'CPUs of each pool: configured, eligible (configured and online), allocated, free (eligible and not held), unavailable_allocated (held but not eligible)',
      labelNames: ['pool', 'state'] as const,
      registers,
      collect() {
        this.reset();
        const host = source.hostView();
        const ledger = source.ledger();
        for (const name of host.pools.keys()) {
          const list = listAllocations(ledger, host, name);
          this.set({ pool: name, state: 'configured' }, sizeOf(list.cpu_pool.configured_cpus));
          this.set({ pool: name, state: 'eligible' }, list.total_available_cpus);
          this.set({ pool: name, state: 'allocated' }, list.total_allocated_cpus);
          this.set({ pool: name, state: 'free' }, list.remaining_available_cpus);
          this.set({ pool: name, state: 'unavailable_allocated' }, sizeOf(list.cpu_pool.unavailable_allocated_cpus));
        }
      },
    });
    new Gauge({
      name: 'epa_service_cpus',
      help: 'CPUs each service holds, by kind: automatic (may be preempted when legacy) or explicit (allocate_numa_cores)',
      labelNames: ['service', 'pool', 'policy', 'kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const [service, record] of source.ledger().entries()) {
          if (record.cpus.isEmpty()) continue;
          const labels = { service, pool: record.pool, policy: record.policy };
          this.set({ ...labels, kind: 'automatic' }, record.cpus.size - record.explicit.size);
          this.set({ ...labels, kind: 'explicit' }, record.explicit.size);
        }
      },
    });
    new Gauge({
      name: 'epa_hugepages',
      help: 'Hugepages per node and size: total and free_kernel (the kernel counters), reserved (every service), free (still reservable)',
      labelNames: ['node', 'size_kb', 'kind'] as const,
      registers,
      collect() {
        this.reset();
        const info = memoryInfo(source.hostView(), source.ledger(), source.hugepageCounters('read'), {});
        for (const [key, node] of Object.entries(info.numa_hugepages)) {
          const labels = { node: key.slice('node'.length) };
          for (const size of node.capacity) {
            const at = { ...labels, size_kb: String(size.size) };
            this.set({ ...at, kind: 'total' }, size.total);
            this.set({ ...at, kind: 'free_kernel' }, size.free_kernel);
            this.set({ ...at, kind: 'reserved' }, size.reserved);
            this.set({ ...at, kind: 'free' }, size.free);
          }
        }
      },
    });
    new Gauge({
      name: 'epa_connections',
      help: 'Client connections open',
      registers,
      collect() {
        this.set(source.connections());
      },
    });
    const requests = this.#requests;
    new Counter({
      name: 'epa_requests_total',
      help: 'Requests answered, by method and outcome ("ok" or the error reason)',
      labelNames: ['method', 'outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const { method, outcome, count } of requests.outcomes()) this.inc({ method, outcome }, count);
      },
    });
    this.registry.registerMetric(
      requests.histogram('epa_request_duration_seconds', 'Time from admitting a request to its answer (a change includes its durable write)'),
    );
    this.#writes = new Counter({ name: 'epa_state_writes_total', help: 'Writes of the state file that reached the disk', registers });
    this.#writeFailures = new Counter({ name: 'epa_state_write_failures_total', help: 'Writes of the state file that failed', registers });
    this.#writeDurations = new Histogram({
      name: 'epa_state_write_duration_seconds',
      help: 'Time to write the state file durably (temp file, fsync, rename, fsync of the directory)',
      buckets: WRITE_BUCKETS,
      registers,
    });
    this.#preemptions = new Counter({
      name: 'epa_preemptions_total',
      help: "Services whose automatic CPUs another service's NUMA request took",
      registers,
    });
  }

  /** A request was answered. */
  answered(method: MethodName, outcome: string, seconds: number): void {
    this.#requests.record(method, outcome, seconds);
  }

  /** A write of the state file ended. */
  wrote(write: { readonly ok: boolean; readonly seconds: number }): void {
    (write.ok ? this.#writes : this.#writeFailures).inc();
    this.#writeDurations.observe(write.seconds);
  }

  /** Changes made durable. */
  changed(changes: readonly AllocationChangedParams[]): void {
    const preempted = changes.filter((change) => change.cause === 'preempted').length;
    if (preempted > 0) this.#preemptions.inc(preempted);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
