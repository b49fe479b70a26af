// cpu_thread_policy on the sample host (pool 2-15,18-31; node 0 = 0-7,16-23, node 1 = 8-15,24-31;
// cpu i and i+16 are the two threads of one core).
import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, cores, cpusOf, domainError, explicit, list, machine, numa, run } from './allocator-harness.js';

const sample = machine(SAMPLE);
const REQUIRE = { cpu_thread_policy: 'require' } as const;
const ISOLATE = { cpu_thread_policy: 'isolate' } as const;
const siblingsOf = (ledger: Ledger, service: string) => ledger.recordOf(service).siblings.toString();

describe('allocator: cpu_thread_policy', () => {
  describe('require', () => {
    it('gives whole cores and says so in the result', () => {
      const { result } = run(sample, Ledger.EMPTY, cores('dpdk', 4, REQUIRE));
      expect(result).to.deep.include({ allocated_cores: '2-3,18-19', cpu_thread_policy: 'require', isolated_siblings: '' });
    });

    it('refuses a count no set of whole cores makes, with the whole cores free in data', () => {
      const error = domainError(() => run(sample, Ledger.EMPTY, cores('dpdk', 3, REQUIRE)), 'INSUFFICIENT_CPUS');
      expect(error.data).to.deep.include({ requested: 3, whole_cores_available: 14 });
    });

    it('refuses when only split cores are free, where prefer would take them', () => {
      // "noisy" holds one thread of every pool core: the free threads all have a busy sibling.
      const ledger = after(sample, [explicit('noisy', '2-15')]);
      const error = domainError(() => run(sample, ledger, cores('dpdk', 2, REQUIRE)), 'INSUFFICIENT_CPUS');
      expect(error.data).to.deep.include({ whole_cores_available: 0 });
      expect(run(sample, ledger, cores('dpdk', 2)).result.allocated_cores).to.equal('18-19');
    });

    it('on a NUMA node: whole cores of that node', () => {
      const { result } = run(sample, Ledger.EMPTY, numa('ovs', 1, 4, REQUIRE));
      expect(result).to.deep.include({ cores_allocated: '8-9,24-25', cpu_thread_policy: 'require' });
    });
  });

  describe('isolate', () => {
    it('gives one thread of each of N whole cores and holds their siblings for the service', () => {
      const { next, result } = run(sample, Ledger.EMPTY, cores('dpdk', 2, ISOLATE));
      expect(result).to.deep.include({
        allocated_cores: '2-3',
        cores_allocated: 2,
        cpu_thread_policy: 'isolate',
        isolated_siblings: '18-19',
        remaining_available_cpus: 24,
        shared_cpus: '4-15,20-31',
      });
      const entry = list(sample, next).allocations[0]!;
      expect(entry).to.deep.include({ allocated_cores: '2-3', cores_count: 2, isolated_siblings: '18-19', cpu_thread_policy: 'isolate' });
      expect(list(sample, next).total_allocated_cpus).to.equal(2);
    });

    it('never hands the idle siblings to anyone else', () => {
      const ledger = after(sample, [cores('dpdk', 2, ISOLATE)]);
      expect(run(sample, ledger, cores('vm', 24)).result.allocated_cores).to.equal('4-15,20-31');
      const error = domainError(() => run(sample, ledger, cores('vm', 25)), 'INSUFFICIENT_CPUS');
      expect(error.data).to.deep.include({ requested: 25, available: 24 });
      domainError(() => run(sample, ledger, explicit('vm', '18-19')), 'INSUFFICIENT_CPUS');
    });

    it('needs N whole cores', () => {
      const error = domainError(() => run(sample, Ledger.EMPTY, cores('dpdk', 15, ISOLATE)), 'INSUFFICIENT_CPUS');
      expect(error.data).to.deep.include({ requested: 15, whole_cores_available: 14 });
    });

    it('keeps its cores when it grows, and keeps the policy when a later call omits it', () => {
      const ledger = after(sample, [cores('dpdk', 2, ISOLATE), cores('dpdk', 3)]);
      expect(cpusOf(ledger, 'dpdk')).to.equal('2-4');
      expect(siblingsOf(ledger, 'dpdk')).to.equal('18-20');
    });

    it('gives the siblings back when the service asks for prefer, and drops the policy on release', () => {
      let ledger = after(sample, [cores('dpdk', 2, ISOLATE), cores('dpdk', 2, { cpu_thread_policy: 'prefer' })]);
      expect(siblingsOf(ledger, 'dpdk')).to.equal('');
      ledger = after(sample, [cores('dpdk', 2, ISOLATE), cores('dpdk', -1)]);
      expect(ledger.recordOf('dpdk').threadPolicy).to.equal('prefer');
      expect(run(sample, ledger, cores('dpdk', 2)).result.cpu_thread_policy).to.equal('prefer');
    });

    it('on a NUMA node: one thread per core of that node, siblings held', () => {
      const { result } = run(sample, Ledger.EMPTY, numa('ovs', 1, 2, ISOLATE));
      expect(result).to.deep.include({ cores_allocated: '8-9', isolated_siblings: '24-25', cpu_thread_policy: 'isolate' });
    });

    it('a NUMA request that preempts an isolated service frees the idle siblings of the cores it took', () => {
      const ledger = after(sample, [cores('vm', 6, ISOLATE)]);
      expect([cpusOf(ledger, 'vm'), siblingsOf(ledger, 'vm')]).to.deep.equal(['2-7', '18-23']);
      const { next, result } = run(sample, ledger, numa('ovs', 0, 2));
      expect(result.preempted).to.deep.equal([{ service_name: 'vm', cores: '2-3' }]);
      expect([cpusOf(next, 'vm'), siblingsOf(next, 'vm')]).to.deep.equal(['4-7', '20-23']);
      expect(run(sample, next, cores('other', 2)).result.allocated_cores).to.equal('18-19');
    });
  });
});
