// Named pools: the default pool "isolated" and the optional "general" pool, each a
// world of its own. On the sample host (pool 2-15,18-31; node 0 = 0-7,16-23, node 1 = 8-15,24-31;
// cpu i and i+16 siblings) the general pool is the host's own CPUs 0-1,16-17 (cores 0 and 1, node 0).
import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import type { ServiceRecord } from '../../src/allocator/index.js';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import { NO_ISOLATED, SAMPLE } from '../fixtures/hosts.js';
import {
  after,
  apply,
  cores,
  cpusOf,
  domainError,
  hugepages,
  list,
  machine,
  machineWith,
  numa,
  percent,
  release,
  releaseIn,
  run,
} from './allocator-harness.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

const GENERAL = { pool: 'general' } as const;
const sample = machineWith(SAMPLE, { general: '0-1,16-17' });

const legacyRecord = (cpus: string, pool: 'isolated' | 'general'): ServiceRecord => ({
  cpus: parseCpuList(cpus),
  explicit: CpuSet.EMPTY,
  policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY,
  pool,
  hugepages: [],
});

describe('allocator: named pools', () => {
  describe('the general pool', () => {
    it('hands out its own CPUs, with its own totals and shared CPUs, and says so in the result', () => {
      const { next, result } = run(sample, Ledger.EMPTY, cores('osd', 2, GENERAL));
      expect(result).to.deep.equal({
        service_name: 'osd',
        num_of_cores: 2,
        cores_allocated: 2,
        allocated_cores: '0,16',
        shared_cpus: '1,17',
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        preemption_policy: 'legacy',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
        pool: 'general',
      });
      expect(next.recordOf('osd').pool).to.equal('general');
      // The isolated pool is untouched: its next service sees all 28 CPUs.
      const vm = run(sample, next, cores('vm', 2));
      expect(vm.result).to.deep.include({ allocated_cores: '2,18', total_available_cpus: 28, remaining_available_cpus: 26, pool: 'isolated' });
    });

    it('takes percentages of its own size', () => {
      const { result } = run(sample, Ledger.EMPTY, percent('osd', 50, GENERAL));
      expect(result).to.deep.equal({
        service_name: 'osd',
        cores_allocated_count: 2,
        allocated_cores: '0,16',
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        preemption_policy: 'legacy',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
        pool: 'general',
      });
    });

    it('serves NUMA requests from its CPUs on the node only', () => {
      const { next, result } = run(sample, Ledger.EMPTY, numa('osd', 0, 2, GENERAL));
      expect(result).to.deep.equal({
        service_name: 'osd',
        numa_node: 0,
        num_of_cores: 2,
        cores_allocated: '0,16',
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        preempted: [],
        preemption_policy: 'legacy',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
        pool: 'general',
      });
      expect(next.recordOf('osd').explicit.toString()).to.equal('0,16');
      const err = domainError(() => run(sample, Ledger.EMPTY, numa('osd', 1, 1, GENERAL)), 'INSUFFICIENT_CPUS');
      expect(err.message).to.equal('NUMA node 1 only has 0 general CPUs, but 1 were requested');
    });

    it('releases with release_service naming the pool, and reports that pool\'s totals', () => {
      const ledger = after(sample, [cores('osd', 2, GENERAL), cores('vm', 4)]);
      const { next, result } = run(sample, ledger, releaseIn('osd', 'general'));
      expect(result).to.deep.include({ service_name: 'osd', released_cores: '0,16', total_available_cpus: 4, remaining_available_cpus: 4 });
      expect(next.get('osd')).to.equal(undefined);
      expect(cpusOf(next, 'vm')).to.equal('2-3,18-19');
    });

    it('works on a host without isolated CPUs, where the default pool stays empty', () => {
      // NO_ISOLATED: 2 nodes × 4 cores × 2 threads; node 0 = 0-3,8-11; cpu i and i+8 siblings.
      const m = machineWith(NO_ISOLATED, { general: '1-3,9-11' });
      const { next, result } = run(m, Ledger.EMPTY, cores('osd', 4, GENERAL));
      expect(result).to.deep.include({ allocated_cores: '1-2,9-10', shared_cpus: '3,11', total_available_cpus: 6, pool: 'general' });
      const noIsolated = domainError(() => run(m, next, cores('vm', 1)), 'NO_ISOLATED_CPUS');
      expect(noIsolated.message).to.equal('No CPUs available');
      expect(list(m, next)).to.deep.include({ total_allocations: 0, total_available_cpus: 0, allocations: [] });
      expect(list(m, next, 'general').allocations.map((a) => a.service_name)).to.deep.equal(['osd']);
    });
  });

  describe('one pool per service', () => {
    const held = after(sample, [cores('osd', 2, GENERAL), cores('vm', 2)]);

    it('refuses a request naming the other pool with POOL_CONFLICT, and an omitted pool means the default one', () => {
      const requests = [
        cores('osd', 2),
        cores('osd', 2, { pool: 'isolated' }),
        percent('osd', 10),
        numa('osd', 0, 2),
        cores('osd', -1),
        release('osd'),
        cores('vm', 2, GENERAL),
        numa('vm', 0, 1, GENERAL),
        releaseIn('vm', 'general'),
      ];
      for (const request of requests) {
        const err = domainError(() => apply(sample, held, request), 'POOL_CONFLICT');
        const pool = request.params.service_name === 'osd' ? 'general' : 'isolated';
        expect(err.code).to.equal(-32011);
        expect(err.message).to.equal(`The service holds CPUs in pool ${pool}; release that allocation in its pool first`);
      }
    });

    it('lets the service move once it has released its CPUs in its pool', () => {
      const released = after(sample, [cores('osd', -1, GENERAL)], held);
      const { result } = run(sample, released, cores('osd', 2));
      expect(result).to.deep.include({ allocated_cores: '3,19', pool: 'isolated' });
    });

    it('lets a service holding only hugepages pick either pool', () => {
      const ledger = after(sample, [hugepages('h', 0, 2048, 8)]);
      expect(run(sample, ledger, cores('h', 2, GENERAL)).result.pool).to.equal('general');
      expect(run(sample, ledger, cores('h', 2)).result.pool).to.equal('isolated');
    });
  });

  describe('POOL_NOT_FOUND', () => {
    const plain = machine(SAMPLE);

    it('answers an unknown pool, and general where it is not configured, on every method that takes a pool', () => {
      const cases: [typeof sample, string][] = [
        [sample, 'shared'],
        [sample, 'General'],
        [plain, 'general'],
      ];
      for (const [m, pool] of cases) {
        for (const request of [cores('svc', 1, { pool }), percent('svc', 10, { pool }), numa('svc', 0, 1, { pool }), releaseIn('svc', pool)]) {
          const err = domainError(() => apply(m, Ledger.EMPTY, request), 'POOL_NOT_FOUND');
          expect([err.code, err.message]).to.deep.equal([-32009, `CPU pool ${pool} does not exist or is not configured`]);
        }
        domainError(() => list(m, Ledger.EMPTY, pool), 'POOL_NOT_FOUND');
      }
    });

    it('is answered even for a release (-1), which changes nothing', () => {
      domainError(() => run(plain, Ledger.EMPTY, cores('svc', -1, GENERAL)), 'POOL_NOT_FOUND');
    });

    it('does not stop release_service of a service whose pool is no longer configured', () => {
      const orphan = Ledger.fromRecords([['osd', legacyRecord('0-1', 'general')]]);
      const { next, result } = run(plain, orphan, releaseIn('osd', 'general'));
      expect(result.released_cores).to.equal('0-1');
      expect(next.get('osd')).to.equal(undefined);
      domainError(() => run(plain, orphan, release('osd')), 'POOL_CONFLICT');
    });
  });

  describe('no fallback, no borrowing', () => {
    it('answers INSUFFICIENT_CPUS when the general pool is exhausted, though the isolated pool has room', () => {
      const ledger = after(sample, [cores('a', 4, GENERAL)]);
      const err = domainError(() => run(sample, ledger, cores('b', 1, GENERAL)), 'INSUFFICIENT_CPUS');
      expect(err.message).to.equal('Insufficient CPUs available. Requested: 1, Available: 0');
      domainError(() => run(sample, Ledger.EMPTY, cores('b', 5, GENERAL)), 'INSUFFICIENT_CPUS');
      domainError(() => run(sample, Ledger.EMPTY, numa('b', 0, 5, GENERAL)), 'INSUFFICIENT_CPUS');
    });

    it('answers INSUFFICIENT_CPUS when the isolated pool is exhausted, though the general pool has room', () => {
      const ledger = after(sample, [cores('a', 28)]);
      const err = domainError(() => run(sample, ledger, cores('b', 1)), 'INSUFFICIENT_CPUS');
      expect(err.data).to.deep.include({ requested: 1, available: 0 });
      // Node 0 has general CPUs free, but a NUMA request of the isolated pool never sees them.
      const node = domainError(() => run(sample, after(sample, [numa('a', 0, 12)]), numa('b', 0, 1)), 'INSUFFICIENT_CPUS');
      expect(node.data).to.deep.include({ requested: 1, available: 0 });
    });

    it('never preempts a service of the other pool, even for CPUs that are stale there', () => {
      // "g" is a general service whose CPUs 8,24 left the general pool (the operator changed
      // --general-pool) and are now in the isolated pool: stale, never handed to anyone.
      const ledger = Ledger.fromRecords([['g', legacyRecord('8,24', 'general')]]);
      const err = domainError(() => run(sample, ledger, numa('x', 1, 16)), 'INSUFFICIENT_CPUS');
      expect(err.message).to.equal('NUMA node 1 only has 14 isolated CPUs, but 16 were requested');
      const { next, result } = run(sample, ledger, numa('x', 1, 14));
      expect(result.preempted).to.deep.equal([]);
      expect(cpusOf(next, 'g')).to.equal('8,24');
      expect(list(sample, next, 'general').allocations[0]).to.deep.include({ service_name: 'g', stale_cores: '8,24' });
    });
  });

  describe('list_allocations per pool', () => {
    const ledger = after(sample, [
      cores('osd', 2, GENERAL),
      hugepages('osd', 1, 2048, 4),
      numa('dpdk', 1, 2),
      hugepages('only-pages', 0, 2048, 8),
      cores('vm', 4),
    ]);

    it('lists the default pool without a pool: its services and those holding only hugepages', () => {
      expect(list(sample, ledger)).to.deep.equal({
        pool: 'isolated',
        total_allocations: 3,
        total_allocated_cpus: 6,
        total_available_cpus: 28,
        remaining_available_cpus: 22,
        allocations: [
          {
            service_name: 'dpdk',
            allocated_cores: '8,24',
            cores_count: 2,
            is_explicit: true,
            explicit_cores: '8,24',
            numa_nodes: [1],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
            pool: 'isolated',
          },
          {
            service_name: 'only-pages',
            allocated_cores: '',
            cores_count: 0,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [],
            hugepages: [{ node_id: 0, size_kb: 2048, count: 8 }],
            stale_cores: '',
            preemption_policy: null,
            cpu_thread_policy: null,
            isolated_siblings: '',
            pool: 'isolated',
          },
          {
            service_name: 'vm',
            allocated_cores: '2-3,18-19',
            cores_count: 4,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [0],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
            pool: 'isolated',
          },
        ],
        ...SAMPLE_POOL_FIELDS,
      });
      expect(list(sample, ledger, 'isolated')).to.deep.equal(list(sample, ledger));
    });

    it('lists the general pool with its services only, hugepages included', () => {
      expect(list(sample, ledger, 'general')).to.deep.equal({
        pool: 'general',
        total_allocations: 1,
        total_allocated_cpus: 2,
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        allocations: [
          {
            service_name: 'osd',
            allocated_cores: '0,16',
            cores_count: 2,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [0],
            hugepages: [{ node_id: 1, size_kb: 2048, count: 4 }],
            stale_cores: '',
            preemption_policy: 'legacy',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
            pool: 'general',
          },
        ],
        supported_cpu_features: ['non-preemptive-allocations', 'cpu-pools'],
        cpu_pool: {
          name: 'general',
          source: 'configured',
          configured_cpus: '0-1,16-17',
          eligible_cpus: '0-1,16-17',
          unavailable_allocated_cpus: '',
          unavailable_reason: null,
        },
      });
    });

    it('describes an empty pool too, and a --cpu-pool default pool as configured', () => {
      const empty = list(machineWith(NO_ISOLATED, { general: '1' }), Ledger.EMPTY, 'general');
      expect(empty).to.deep.include({ total_allocations: 0, total_available_cpus: 1, allocations: [] });
      expect(empty.supported_cpu_features).to.deep.equal(['non-preemptive-allocations', 'cpu-pools']);
      expect(list(machine(NO_ISOLATED), Ledger.EMPTY).cpu_pool).to.deep.equal({
        name: 'isolated',
        source: 'isolated',
        configured_cpus: '',
        eligible_cpus: '',
        unavailable_allocated_cpus: '',
        unavailable_reason: null,
      });
      expect(list(machineWith(SAMPLE, { cpuPool: '4-7', general: '0-1' }), Ledger.EMPTY).cpu_pool).to.deep.equal({
        name: 'isolated',
        source: 'configured',
        configured_cpus: '4-7',
        eligible_cpus: '4-7',
        unavailable_allocated_cpus: '',
        unavailable_reason: null,
      });
    });
  });
});
