// The metrics against what the daemon answers, over random request sequences on the sample host
// (with and without a general pool): after each burst of requests (sent together on one
// connection, so some share a state write), GET /metrics must show exactly the pools, services and
// hugepages that list_allocations (each pool) and get_memory_info answer right before it, and its
// counters must match the calls made: requests per method and outcome, preemptions reported by
// allocate_numa_cores, state writes. fast-check prints the seed and the shrunk sequence of a failure.
import { expect } from 'chai';
import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import parsePrometheusText from 'parse-prometheus-text-format';
import { JSONRPC_ERRORS, type GetMemoryInfoResult, type ListAllocationsResult } from '../../schema/index.js';
import { parseCpuList } from '../../src/cpuset/index.js';
import type { FakeHostSpec } from '../fixtures/host.js';
import { EpaClient, EpaError, TestDaemon } from '../support/daemon.js';
import type { Request } from '../unit/allocator-harness.js';
import { request } from './arbitraries.js';

const RUNS = { numRuns: 15 };
/** The sample host's shape (SAMPLE: 2 nodes × 8 cores × 2 threads, pool 2-15,18-31). */
const SAMPLE_SHAPE: FakeHostSpec = { nodes: 2, coresPerNode: 8, threads: 2, siblings: 'intel', pool: '2-15,18-31' };
/** The sample host's CPUs outside the isolated pool. */
const GENERAL_POOL = '0-1,16-17';

interface Call {
  readonly method: Request['method'];
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Requests sized for the sample host (nodes of 12 pool CPUs, a general pool of 4), so that CPUs
 * run short and NUMA requests preempt: most of the sequence. The rest is the arbitraries' any-host
 * mix (unknown nodes and sizes, counts over the pool).
 */
function sized(): fc.Arbitrary<Call> {
  const service_name = fc.constantFrom('a', 'b', 'c');
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc
        .record({ service_name, num_of_cores: fc.integer({ min: -1, max: 6 }) })
        .map((params): Call => ({ method: 'allocate_cores', params })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ service_name, numa_node: fc.constantFrom(0, 1), num_of_cores: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 12 })) })
        .map((params): Call => ({ method: 'allocate_numa_cores', params })),
    },
  );
}

/** A request, now and then naming a pool (maybe one not configured) and a policy. */
function call(): fc.Arbitrary<Call> {
  const pool = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constant('general') },
    { weight: 1, arbitrary: fc.constant('isolated') },
  );
  const policy = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant('non-preemptive') },
    { weight: 1, arbitrary: fc.constant('legacy') },
  );
  const base = fc.oneof({ weight: 3, arbitrary: sized() }, { weight: 2, arbitrary: request(SAMPLE_SHAPE) });
  return fc.record({ base, pool, policy }).map(({ base: b, pool: p, policy: pp }): Call => {
    if (b.method === 'allocate_hugepages') return b;
    const named = p === undefined ? {} : { pool: p };
    if (b.method === 'release_service') return { method: b.method, params: { ...b.params, ...named } };
    return { method: b.method, params: { ...b.params, ...named, ...(pp === undefined ? {} : { preemption_policy: pp }) } };
  });
}

const scenario = fc.record({
  general: fc.boolean(),
  bursts: fc.array(fc.array(call(), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
});

// --- Reading the exposition -------------------------------------------------------------------

type Families = ReadonlyMap<string, parsePrometheusText.MetricFamily>;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const labelKey = (labels: Readonly<Record<string, string>> = {}) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');

function series(families: Families, name: string): Record<string, number> {
  const family = families.get(name);
  if (family === undefined) return expect.fail(`no family ${name}`);
  const all: Record<string, number> = {};
  for (const sample of family.metrics) {
    const key = labelKey(sample.labels);
    expect(all, `${name}{${key}} twice`).not.to.have.property(key);
    all[key] = Number(sample.value);
  }
  return all;
}

const single = (families: Families, name: string): number => series(families, name)[''] ?? expect.fail(`${name} has no value`);

/**
 * The `_count` of each series of a labelled histogram, by its labels. Read from the text: the
 * parser flattens a histogram into one set of buckets and drops the counts of labelled series.
 */
function histogramCounts(text: string, name: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, labels, value] of text.matchAll(new RegExp(`^${name}_count\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const parsed = Object.fromEntries([...labels!.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]));
    counts[labelKey(parsed)] = Number(value);
  }
  return counts;
}

// --- What the daemon answered -----------------------------------------------------------------

const cpus = (cpulist: string) => parseCpuList(cpulist).size;
const ERROR_NAMES = new Map<number, string>(Object.entries(JSONRPC_ERRORS).map(([name, e]) => [e.code, name]));

/** The calls made and their outcomes, as epa_requests_total should count them. */
class CallLog {
  readonly requests: Record<string, number> = {};
  readonly durations: Record<string, number> = {};
  okChanges = 0;
  preempted = 0;

  constructor(private readonly client: EpaClient) {}

  /** Calls and counts; an error answer is an outcome, not a failure of the test. */
  async call(method: string, params: Readonly<Record<string, unknown>>): Promise<unknown> {
    let outcome = 'ok';
    let result: unknown;
    try {
      result = await this.client.call(method, { ...params });
    } catch (error) {
      if (!(error instanceof EpaError)) throw error;
      outcome = error.reason ?? ERROR_NAMES.get(error.code) ?? 'ERROR';
    }
    const key = labelKey({ method, outcome });
    this.requests[key] = (this.requests[key] ?? 0) + 1;
    this.durations[labelKey({ method })] = (this.durations[labelKey({ method })] ?? 0) + 1;
    return outcome === 'ok' ? result : undefined;
  }

  async change(c: Call): Promise<void> {
    const result = await this.call(c.method, c.params);
    if (result === undefined) return;
    this.okChanges++;
    if (c.method === 'allocate_numa_cores') this.preempted += (result as { preempted: unknown[] }).preempted.length;
  }
}

interface Answers {
  readonly lists: readonly ListAllocationsResult[];
  readonly memory: GetMemoryInfoResult;
}

async function answers(ledger: CallLog, general: boolean): Promise<Answers> {
  const lists = [(await ledger.call('list_allocations', {})) as ListAllocationsResult];
  if (general) lists.push((await ledger.call('list_allocations', { pool: 'general' })) as ListAllocationsResult);
  return { lists, memory: (await ledger.call('get_memory_info', {})) as GetMemoryInfoResult };
}

/** What the allocations are, for telling whether a burst changed anything. */
const holdings = (a: Answers) =>
  JSON.stringify([a.lists.map((l) => l.allocations.map((e) => [e.service_name, e.allocated_cores, e.explicit_cores, e.hugepages])), a.memory.numa_hugepages]);

// --- The checks -------------------------------------------------------------------------------

function expectFiguresOf(families: Families, { lists, memory }: Answers): void {
  const pools: Record<string, number> = {};
  const services: Record<string, number> = {};
  for (const list of lists) {
    const pool = list.cpu_pool;
    expect(pool.name).to.equal(list.pool);
    Object.assign(pools, {
      [labelKey({ pool: list.pool, state: 'configured' })]: cpus(pool.configured_cpus),
      [labelKey({ pool: list.pool, state: 'eligible' })]: list.total_available_cpus,
      [labelKey({ pool: list.pool, state: 'allocated' })]: list.total_allocated_cpus,
      [labelKey({ pool: list.pool, state: 'free' })]: list.remaining_available_cpus,
      [labelKey({ pool: list.pool, state: 'unavailable_allocated' })]: cpus(pool.unavailable_allocated_cpus),
    });
    for (const entry of list.allocations) {
      if (entry.cores_count === 0) continue;
      expect(entry.pool).to.equal(list.pool);
      const labels = { service: entry.service_name, pool: list.pool, policy: String(entry.preemption_policy) };
      const explicit = cpus(entry.explicit_cores);
      for (const [kind, count] of [['automatic', entry.cores_count - explicit], ['explicit', explicit]] as const) {
        const key = labelKey({ ...labels, kind });
        expect(services, `${key} listed in two pools`).not.to.have.property(key);
        services[key] = count;
      }
    }
  }
  expect(series(families, 'epa_pool_cpus'), 'epa_pool_cpus').to.deep.equal(pools);
  expect(series(families, 'epa_service_cpus'), 'epa_service_cpus (services without CPUs gone)').to.deep.equal(services);

  // The pool figures hold together with the service figures and with each other.
  const metrics = series(families, 'epa_service_cpus');
  for (const list of lists) {
    const held = Object.entries(metrics)
      .filter(([key]) => key.includes(`,pool=${list.pool},`))
      .reduce((sum, [, n]) => sum + n, 0);
    const at = (state: string) => pools[labelKey({ pool: list.pool, state })]!;
    expect(at('allocated'), `${list.pool}: allocated = Σ services`).to.equal(held);
    expect(at('free'), `${list.pool}: free = eligible − eligible held`).to.equal(at('eligible') - (at('allocated') - at('unavailable_allocated')));
  }

  const hugepages: Record<string, number> = {};
  for (const [node, { capacity }] of Object.entries(memory.numa_hugepages)) {
    for (const size of capacity) {
      for (const kind of ['total', 'free_kernel', 'reserved', 'free'] as const) {
        hugepages[labelKey({ node: node.slice('node'.length), size_kb: String(size.size), kind })] = size[kind];
      }
    }
  }
  expect(series(families, 'epa_hugepages'), 'epa_hugepages').to.deep.equal(hugepages);
}

function expectCountersOf(families: Families, text: string, ledger: CallLog, changedBursts: number): void {
  expect(series(families, 'epa_requests_total'), 'epa_requests_total').to.deep.equal(ledger.requests);
  expect(histogramCounts(text, 'epa_request_duration_seconds'), 'epa_request_duration_seconds_count').to.deep.equal(ledger.durations);
  expect(single(families, 'epa_preemptions_total'), 'epa_preemptions_total').to.equal(ledger.preempted);

  // Every burst that changed something wrote at least once; a write carries at least one change
  // answered ok (a burst's later changes may share a write with each other).
  const writes = single(families, 'epa_state_writes_total');
  expect(writes, 'epa_state_writes_total ≥ bursts that changed something').to.be.at.least(changedBursts);
  expect(writes, 'epa_state_writes_total ≤ changes answered ok').to.be.at.most(ledger.okChanges);
  if (changedBursts > 0) expect(writes).to.be.above(0);
  expect(single(families, 'epa_state_write_failures_total')).to.equal(0);
  expect(Number(families.get('epa_state_write_duration_seconds')?.metrics[0]?.count), 'a duration per write').to.equal(writes);
  expect(single(families, 'epa_connections'), 'the one client connection').to.equal(1);
}

describe('metrics: properties over random request sequences on the sample host', function () {
  this.timeout(60_000);

  it('every figure agrees with list_allocations and get_memory_info, and every counter with the calls made', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ general, bursts }) => {
        const d = await TestDaemon.start({ config: { metricsListen: '127.0.0.1:0', ...(general ? { generalPool: GENERAL_POOL } : {}) } });
        try {
          const url = d.daemon.metricsUrl!;
          const ledger = new CallLog(await d.client());
          let before = await answers(ledger, general);
          let changedBursts = 0;
          for (const burst of bursts) {
            // Sent together on one connection: admitted in order, answered once durable.
            await Promise.all(burst.map((c) => ledger.change(c)));
            const after = await answers(ledger, general);
            if (holdings(after) !== holdings(before)) changedBursts++;
            before = after;

            const reply = await get(url);
            expect(reply.status).to.equal(200);
            const families = new Map(parsePrometheusText(reply.body).map((family) => [family.name, family]));
            expectFiguresOf(families, after);
            expectCountersOf(families, reply.body, ledger, changedBursts);
          }
        } finally {
          await d.cleanup();
        }
      }),
      RUNS,
    );
  });
});
