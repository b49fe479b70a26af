// Eligibility: only pool ∩ online CPUs are handed out. CPUs that go offline (or
// leave the pool) stay with their owner, are reported, and are eligible again when they return;
// a protected owner cannot lose them by asking again. On the sample host (pool 2-15,18-31;
// node 0 = 0-7,16-23, node 1 = 8-15,24-31; cpu i and i+16 siblings); the topology is read with
// every CPU online and `online` changes after, as the daemon sees it between two SIGHUPs.
import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import { fakeHost } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, apply, cores, cpusOf, domainError, list, machine, machineWith, numa, percent, release, run } from './allocator-harness.js';

const PROTECTED = { preemption_policy: 'non-preemptive' } as const;
const allOnline = machine(SAMPLE);
// CPUs 3 (vm's), 8 (osd's) and 5 (nobody's) are offline.
const offline = machineWith(SAMPLE, { online: '0-2,4,6-7,9-31' });
// vm (legacy, automatic) holds 2-3,18-19; osd (protected, explicit) holds 8,24.
const ledger = after(allOnline, [cores('vm', 4), numa('osd', 1, 2, PROTECTED)]);

describe('allocator: eligibility', () => {
  it('keeps offline CPUs with their owner and reports them per entry and per pool', () => {
    const view = list(offline, ledger);
    expect(view).to.deep.include({ total_allocated_cpus: 6, total_available_cpus: 25, remaining_available_cpus: 21 });
    expect(view.allocations.map((a) => [a.service_name, a.allocated_cores, a.stale_cores])).to.deep.equal([
      ['osd', '8,24', '8'],
      ['vm', '2-3,18-19', '3'],
    ]);
    expect(view.cpu_pool).to.deep.equal({
      name: 'isolated',
      source: 'isolated',
      configured_cpus: '2-15,18-31',
      eligible_cpus: '2,4,6-7,9-15,18-31',
      unavailable_allocated_cpus: '3,8',
      unavailable_reason: null,
    });
  });

  it('counts only eligible CPUs in every total: |pool ∩ online|, minus owned ones', () => {
    const { result } = run(offline, ledger, cores('new', 2));
    expect(result).to.deep.include({ total_available_cpus: 25, remaining_available_cpus: 19 });
    // Percentages are of the 25 eligible CPUs: 80 % is 20; 100 % is 25, of which only 21 are free.
    expect(run(offline, ledger, percent('new', 80)).result).to.deep.include({ cores_allocated_count: 20, total_available_cpus: 25 });
    const err = domainError(() => run(offline, ledger, percent('new', 100)), 'INSUFFICIENT_CPUS');
    expect(err.data).to.deep.include({ requested: 25, available: 21 });
  });

  it('never hands an offline CPU to anyone, owned or not', () => {
    const all = run(offline, ledger, cores('new', 21));
    expect(all.result).to.deep.include({ allocated_cores: '4,6-7,9-15,20-23,25-31', remaining_available_cpus: 0 });
    const err = domainError(() => run(offline, ledger, cores('new', 22)), 'INSUFFICIENT_CPUS');
    expect(err.data).to.deep.include({ requested: 22, available: 21 });

    // Node 0: every eligible CPU, the legacy vm's eligible ones by preemption, but not its offline 3.
    const node0 = run(offline, ledger, numa('new', 0, 10));
    expect(node0.result).to.deep.include({ cores_allocated: '2,4,6-7,18-23', preempted: [{ service_name: 'vm', cores: '2,18-19' }] });
    expect(cpusOf(node0.next, 'vm')).to.equal('3');
    domainError(() => run(offline, ledger, numa('new', 0, 11)), 'INSUFFICIENT_CPUS');
    const node1 = domainError(() => run(offline, ledger, numa('new', 1, 15)), 'INSUFFICIENT_CPUS');
    expect(node1.message).to.equal('NUMA node 1 only has 14 isolated CPUs, but 15 were requested');
  });

  it("keeps them through other services' changes, and gives them back as eligible when they return", () => {
    const later = after(offline, [cores('new', 6), numa('new', 1, 2), release('new'), cores('other', 4)], ledger);
    expect([cpusOf(later, 'vm'), cpusOf(later, 'osd')]).to.deep.equal(['2-3,18-19', '8,24']);
    const back = list(allOnline, later);
    expect(back.allocations.map((a) => [a.service_name, a.stale_cores])).to.deep.equal([
      ['osd', ''],
      ['other', ''],
      ['vm', ''],
    ]);
    expect(back.cpu_pool).to.deep.include({ eligible_cpus: '2-15,18-31', unavailable_allocated_cpus: '', unavailable_reason: null });
    expect(back.total_available_cpus).to.equal(28);
    // Asking again now keeps them: nothing is unavailable any more.
    expect(run(allOnline, later, numa('osd', 1, 2)).result.cores_allocated).to.equal('8,24');
    expect(run(allOnline, later, cores('vm', 4)).result.allocated_cores).to.equal('2-3,18-19');
  });

  describe('a protected service holding ineligible CPUs', () => {
    it('gets CPUS_UNAVAILABLE from allocate_cores and allocate_cores_percent', () => {
      for (const request of [cores('osd', 2), cores('osd', 4), cores('osd', 0), percent('osd', 10)]) {
        const err = domainError(() => apply(offline, ledger, request), 'CPUS_UNAVAILABLE');
        expect([err.code, err.message]).to.deep.equal([-32008, 'CPUs 8 of this protected allocation are no longer available; release them first']);
        expect(err.data).to.deep.equal({ reason: 'CPUS_UNAVAILABLE', cpus: '8' });
      }
    });

    it('gets CPUS_UNAVAILABLE from allocate_numa_cores on their node, not on another node', () => {
      domainError(() => run(offline, ledger, numa('osd', 1, 2)), 'CPUS_UNAVAILABLE');
      domainError(() => run(offline, ledger, numa('osd', 1, 4)), 'CPUS_UNAVAILABLE');
      const { next, result } = run(offline, ledger, numa('osd', 0, 2));
      expect(result).to.deep.include({ cores_allocated: '4,20', preemption_policy: 'non-preemptive' });
      expect(cpusOf(next, 'osd')).to.equal('4,8,20,24');
    });

    it('gets CPUS_UNAVAILABLE for CPUs that left the pool (--cpu-pool) as for offline ones', () => {
      const shrunk = machineWith(SAMPLE, { cpuPool: '2-7,9-15,18-31' });
      const err = domainError(() => run(shrunk, ledger, numa('osd', 1, 2)), 'CPUS_UNAVAILABLE');
      expect(err.data).to.deep.include({ cpus: '8' });
      expect(list(shrunk, ledger).allocations[0]).to.deep.include({ service_name: 'osd', stale_cores: '8' });
    });

    it('can always release: release_service, allocate_cores -1, allocate_numa_cores -1 on the node', () => {
      expect(run(offline, ledger, release('osd')).result.released_cores).to.equal('8,24');
      expect(run(offline, ledger, cores('osd', -1)).result).to.deep.include({ allocated_cores: '', preemption_policy: null });
      expect(run(offline, ledger, percent('osd', -1)).result.allocated_cores).to.equal('');
      const byNode = run(offline, ledger, numa('osd', 1, -1));
      expect(byNode.result).to.deep.include({ cores_allocated: '', preemption_policy: null });
      expect(byNode.next.get('osd')).to.equal(undefined);
    });
  });

  describe('a legacy service holding ineligible CPUs', () => {
    it('drops them when it asks again with allocate_cores, and gets eligible CPUs instead', () => {
      const { next, result } = run(offline, ledger, cores('vm', 4));
      // It keeps 2,18-19 and adds 21, the free thread of the core whose other thread (5) is offline.
      expect(result).to.deep.include({ allocated_cores: '2,18-19,21', preemption_policy: 'legacy' });
      expect(list(offline, next).cpu_pool.unavailable_allocated_cpus).to.equal('8');
    });

    it('drops them when it asks again with allocate_numa_cores on their node', () => {
      const { next, result } = run(offline, ledger, numa('vm', 0, 3));
      expect(result.cores_allocated).to.equal('2,18-19');
      expect(cpusOf(next, 'vm')).to.equal('2,18-19');
    });
  });

  it('keeps CPUs that were offline when the topology was read (in no node\'s cpulist) once they return', () => {
    // CPUs 9 and 25 (one core) were offline at the read, so no node lists them; now they are back.
    const readWhileOffline = fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool: '2-15,18-31', online: '0-8,10-24,26-31' });
    const back = machineWith(readWhileOffline, { online: '0-31' });
    const held = Ledger.fromRecords([['vm', { cpus: parseCpuList('9,25'), explicit: CpuSet.EMPTY, policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY, pool: 'isolated', hugepages: [] }]]);
    expect(list(back, held).allocations[0]).to.deep.include({ allocated_cores: '9,25', stale_cores: '' });
    // Shrinking keeps one of them (placement step 1), as for any held CPU.
    const { next, result } = run(back, held, cores('vm', 1));
    expect(result).to.deep.include({ cores_allocated: 1, allocated_cores: '9' });
    expect(cpusOf(next, 'vm')).to.equal('9');
    expect(run(back, held, cores('vm', 3)).result.allocated_cores).to.equal('2,9,25');
  });

  it('applies to the general pool too', () => {
    const general = machineWith(SAMPLE, { general: '0-1,16-17', online: '0-15,17-31' });
    const held = after(machineWith(SAMPLE, { general: '0-1,16-17' }), [cores('osd', 2, { pool: 'general', ...PROTECTED })]);
    expect(cpusOf(held, 'osd')).to.equal('0,16');
    const view = list(general, held, 'general');
    expect(view).to.deep.include({ total_available_cpus: 3, remaining_available_cpus: 2 });
    expect(view.cpu_pool).to.deep.equal({
      name: 'general',
      source: 'configured',
      configured_cpus: '0-1,16-17',
      eligible_cpus: '0-1,17',
      unavailable_allocated_cpus: '16',
      unavailable_reason: null,
    });
    domainError(() => run(general, held, cores('osd', 2, { pool: 'general' })), 'CPUS_UNAVAILABLE');
    expect(run(general, held, cores('b', 2, { pool: 'general' })).result.allocated_cores).to.equal('1,17');
  });
});
