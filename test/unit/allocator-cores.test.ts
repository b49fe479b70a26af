import { expect } from 'chai';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import { Ledger } from '../../src/allocator/index.js';
import { fakeHost } from '../fixtures/host.js';
import { FOUR_NODE_AMD, NO_ISOLATED, NO_NUMA_DIRS, SAMPLE, SMT4 } from '../fixtures/hosts.js';
import { after, cores, cpusOf, domainError, list, machine, numa, percent, run } from './allocator-harness.js';

const sample = machine(SAMPLE);

/** A ledger where `service` holds `cpus` as an automatic allocation. */
function holding(service: string, cpus: string): Ledger {
  const record = { cpus: parseCpuList(cpus), explicit: CpuSet.EMPTY, policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY, pool: 'isolated', hugepages: [] } as const;
  return Ledger.fromRecords([[service, record]]);
}

describe('allocator: allocate_cores placement', () => {
  it('gives a fresh service of 4 the best-fitting node: 2-3,18-19 on the sample host', () => {
    const { result } = run(sample, Ledger.EMPTY, cores('vm', 4));
    expect(result).to.deep.include({
      service_name: 'vm',
      num_of_cores: 4,
      cores_allocated: 4,
      allocated_cores: '2-3,18-19',
      shared_cpus: '4-15,20-31',
      total_available_cpus: 28,
      remaining_available_cpus: 24,
    });
  });

  it('grows the same service from 4 to 6 keeping its CPUs: 2-4,18-20', () => {
    const ledger = after(sample, [cores('vm', 4)]);
    const { result } = run(sample, ledger, cores('vm', 6));
    expect(result.allocated_cores).to.equal('2-4,18-20');
    expect(result.remaining_available_cpus).to.equal(22);
  });

  it('keeps exactly its CPUs when a service asks again for the same count', () => {
    const ledger = after(sample, [cores('a', 3), cores('b', 5)]);
    const again = run(sample, ledger, cores('b', 5));
    expect(again.result.allocated_cores).to.equal(cpusOf(ledger, 'b'));
    expect(cpusOf(again.next, 'a')).to.equal(cpusOf(ledger, 'a'));
  });

  it('shrinks whole cores first: 6 CPUs down to 3 keeps core 2 whole and one thread of core 3', () => {
    const ledger = after(sample, [cores('vm', 6)]);
    expect(cpusOf(ledger, 'vm')).to.equal('2-4,18-20');
    expect(run(sample, ledger, cores('vm', 3)).result.allocated_cores).to.equal(
      '2-3,18',
    );
  });

  it('shrinking keeps a whole core over a split one', () => {
    const ledger = holding('vm', '2-3,19');
    expect(run(sample, ledger, cores('vm', 2)).result.allocated_cores).to.equal('3,19');
  });

  it('shrinking keeps the CPUs on the node where the service holds most', () => {
    const ledger = after(sample, [cores('vm', 20)]);
    expect(cpusOf(ledger, 'vm')).to.equal('2-3,8-15,18-19,24-31');
    expect(run(sample, ledger, cores('vm', 10)).result.allocated_cores).to.equal(
      '8-12,24-28',
    );
  });

  it('growing adds CPUs on the node the service already uses, even when another node fits better', () => {
    const ledger = holding('vm', '8');
    expect(run(sample, ledger, cores('vm', 3)).result.allocated_cores).to.equal(
      '8-9,25',
    );
  });

  it('a remainder comes from the core with the fewest free threads (the sibling of a held CPU)', () => {
    const ledger = holding('vm', '8');
    expect(run(sample, ledger, cores('vm', 4)).result.allocated_cores).to.equal(
      '8-9,24-25',
    );
  });

  it('growing beyond the used nodes goes on with the best-fitting node', () => {
    // vm holds 2 on node 0; "other" leaves node 0 only 2 more free CPUs; node 1 is then the fit.
    const ledger = after(sample, [cores('vm', 2), cores('other', 8)]);
    expect(cpusOf(ledger, 'vm')).to.equal('2,18');
    expect(cpusOf(ledger, 'other')).to.equal('3-6,19-22');
    const { result } = run(sample, ledger, cores('vm', 8));
    expect(result.allocated_cores).to.equal('2,7-9,18,23-25');
  });

  it('best fit: the node with the fewest free CPUs that fits, lowest id on ties (AMD numbering)', () => {
    const amd = machine(FOUR_NODE_AMD);
    // Every node has 6 free CPUs: the tie goes to node 0.
    let ledger = after(amd, [cores('a', 2)]);
    expect(cpusOf(ledger, 'a')).to.equal('2-3');
    // Node 0 (4 free) is too small for 6: node 1 is the lowest of the fitting ones.
    ledger = after(amd, [cores('b', 6)], ledger);
    expect(cpusOf(ledger, 'b')).to.equal('10-15');
    // Node 0 now fits 4 exactly and has the fewest free CPUs.
    ledger = after(amd, [cores('c', 4)], ledger);
    expect(cpusOf(ledger, 'c')).to.equal('4-7');
  });

  it('when no node fits, fills whole nodes with the most free first, then best fit for the rest', () => {
    const amd = machine(FOUR_NODE_AMD);
    const ledger = after(amd, [cores('a', 2)]);
    const { result } = run(amd, ledger, cores('b', 14));
    expect(result.allocated_cores).to.equal('4-5,10-15,18-23');
  });

  it('takes whole cores before splitting one, on adjacent (AMD) numbering', () => {
    const amd = machine(FOUR_NODE_AMD);
    expect(run(amd, Ledger.EMPTY, cores('a', 3)).result.allocated_cores).to.equal(
      '2-4',
    );
  });

  it('takes whole free cores before the lone sibling of a split core, and the lone sibling for a remainder', () => {
    let ledger = after(sample, [cores('a', 1)]);
    expect(cpusOf(ledger, 'a')).to.equal('2');
    ledger = after(sample, [cores('b', 2)], ledger);
    expect(cpusOf(ledger, 'b')).to.equal('3,19');
    ledger = after(sample, [cores('c', 1)], ledger);
    expect(cpusOf(ledger, 'c')).to.equal('18');
  });

  it('on SMT-4 takes a whole core, then splits the lowest; later fills the split core before a whole one', () => {
    const smt4 = machine(SMT4);
    let ledger = after(smt4, [cores('a', 6)]);
    expect(cpusOf(ledger, 'a')).to.equal('1-2,9-10,17,25');
    ledger = after(smt4, [cores('b', 3)], ledger);
    expect(cpusOf(ledger, 'b')).to.equal('3,18,26');
  });

  it('counts every CPU as node 0 on a host without NUMA directories', () => {
    const flat = machine(NO_NUMA_DIRS);
    const { result } = run(flat, Ledger.EMPTY, cores('a', 4));
    expect(result.allocated_cores).to.equal('1-2,9-10');
    expect(result.total_available_cpus).to.equal(14);
  });
});

describe('allocator: allocate_cores counts and errors', () => {
  it('reports shared_cpus as the free pool for the service minus its new CPUs', () => {
    const ledger = after(sample, [cores('a', 4)]);
    const { result } = run(sample, ledger, cores('b', 6));
    expect(result.allocated_cores).to.equal('4-6,20-22');
    expect(result.shared_cpus).to.equal('7-15,23-31');
    expect(result.total_available_cpus).to.equal(28);
    expect(result.remaining_available_cpus).to.equal(18);
  });

  it('0 takes floor(0.8·P) of the free pool for the service, its own CPUs included', () => {
    expect(run(sample, Ledger.EMPTY, cores('a', 0)).result.cores_allocated).to.equal(22);
    const ledger = after(sample, [cores('a', 4), cores('other', 8)]);
    const { result } = run(sample, ledger, cores('a', 0));
    expect(result.num_of_cores).to.equal(0);
    expect(result.cores_allocated).to.equal(16);
  });

  it('0 on a free pool of more than 100 CPUs takes P − 16; exactly 100 gives 80', () => {
    const big = (pool: string) => machine(fakeHost({ nodes: 2, coresPerNode: 64, threads: 1, pool }));
    const count = (pool: string) =>
      run(big(pool), Ledger.EMPTY, cores('a', 0)).result.cores_allocated;
    expect(count('0-99')).to.equal(80);
    expect(count('0-100')).to.equal(85);
    expect(count('0-119')).to.equal(104);
  });

  it('0 on a free pool of one CPU takes that CPU (at least one), and fails when nothing is free', () => {
    const one = machine(fakeHost({ nodes: 1, coresPerNode: 4, threads: 1, pool: '3' }));
    expect(run(one, Ledger.EMPTY, cores('a', 0)).result.allocated_cores).to.equal('3');
    const taken = after(one, [cores('other', 1)]);
    const err = domainError(() => run(one, taken, cores('a', 0)), 'INSUFFICIENT_CPUS');
    expect(err.data).to.deep.include({ requested: 1, available: 0 });
  });

  it('-1 releases every CPU of the service and reports the free pool as shared', () => {
    const ledger = after(sample, [cores('a', 4), numa('a', 1, 2), cores('b', 2)]);
    const { next, result } = run(sample, ledger, cores('a', -1));
    expect(result).to.deep.include({ num_of_cores: -1, cores_allocated: 0, allocated_cores: '' });
    expect(result.shared_cpus).to.equal(CpuSet.range(2, 31).difference(CpuSet.of(16, 17)).difference(next.owned).toString());
    expect(result.remaining_available_cpus).to.equal(26);
    expect(next.get('a')).to.equal(undefined);
  });

  it('-1 for a service holding nothing is not an error, even on an empty pool', () => {
    expect(run(sample, Ledger.EMPTY, cores('a', -1)).result.cores_allocated).to.equal(0);
    const empty = machine(NO_ISOLATED);
    const { result } = run(empty, Ledger.EMPTY, cores('a', -1));
    expect(result).to.deep.include({ allocated_cores: '', total_available_cpus: 0, remaining_available_cpus: 0 });
  });

  it('an empty pool answers NO_ISOLATED_CPUS (-32001) for a count and for 0', () => {
    const empty = machine(NO_ISOLATED);
    for (const n of [4, 0]) {
      const err = domainError(() => run(empty, Ledger.EMPTY, cores('a', n)), 'NO_ISOLATED_CPUS');
      expect(err.code).to.equal(-32001);
      expect(err.message).to.equal('No CPUs available');
    }
  });

  it('too few free CPUs answers INSUFFICIENT_CPUS (-32002) with requested and available', () => {
    const ledger = after(sample, [cores('a', 20)]);
    const err = domainError(() => run(sample, ledger, cores('b', 10)), 'INSUFFICIENT_CPUS');
    expect(err.code).to.equal(-32002);
    expect(err.message).to.equal('Insufficient CPUs available. Requested: 10, Available: 8');
    expect(err.data).to.deep.include({ requested: 10, available: 8 });
    const fresh = domainError(() => run(sample, Ledger.EMPTY, cores('b', 29)), 'INSUFFICIENT_CPUS');
    expect(fresh.message).to.equal('Insufficient CPUs available. Requested: 29, Available: 28');
  });

  it("counts the service's own CPUs as available to it", () => {
    const ledger = after(sample, [cores('a', 20)]);
    expect(run(sample, ledger, cores('a', 28)).result.cores_allocated).to.equal(28);
  });

  it('a failed request leaves the ledger as it was', () => {
    const ledger = after(sample, [cores('a', 20), numa('b', 0, 2)]);
    const before = list(sample, ledger);
    domainError(() => run(sample, ledger, cores('b', 12)), 'INSUFFICIENT_CPUS');
    expect(list(sample, ledger)).to.deep.equal(before);
  });

  it('re-requesting replaces explicit CPUs too: they become automatic and can be preempted', () => {
    let ledger = after(sample, [numa('a', 1, 2)]);
    expect(ledger.recordOf('a').explicit.toString()).to.equal('8,24');
    ledger = after(sample, [cores('a', 4)], ledger);
    expect(cpusOf(ledger, 'a')).to.equal('8-9,24-25');
    expect(ledger.recordOf('a').explicit.toString()).to.equal('');
    const { result } = run(sample, ledger, numa('b', 1, 16));
    expect(result.preempted).to.deep.equal([{ service_name: 'a', cores: '8-9,24-25' }]);
  });
});

describe('allocator: allocate_cores_percent', () => {
  const cases: [number, number, string][] = [
    [50, 14, '8-14,24-30'],
    [10, 3, '2-3,18'],
    [1, 1, '2'],
    [100, 28, '2-15,18-31'],
  ];
  for (const [share, count, cpus] of cases) {
    it(`${share}% of a 28-CPU pool is ceil(28·${share}/100) = ${count} CPUs`, () => {
      const { result } = run(sample, Ledger.EMPTY, percent('a', share));
      expect(result).to.deep.include({
        service_name: 'a',
        cores_allocated_count: count,
        allocated_cores: cpus,
        total_available_cpus: 28,
        remaining_available_cpus: 28 - count,
      });
    });
  }

  it('is a share of the whole pool, not of the free CPUs', () => {
    const ledger = after(sample, [cores('a', 20)]);
    const err = domainError(() => run(sample, ledger, percent('b', 50)), 'INSUFFICIENT_CPUS');
    expect(err.message).to.equal('Insufficient CPUs available. Requested: 14, Available: 8');
  });

  for (const share of [0, -1]) {
    it(`${share} releases the service's CPUs (also on an empty pool)`, () => {
      const ledger = after(sample, [percent('a', 50), cores('b', 2)]);
      const { next, result } = run(sample, ledger, percent('a', share));
      expect(result).to.deep.include({ cores_allocated_count: 0, allocated_cores: '', remaining_available_cpus: 26 });
      expect(next.get('a')).to.equal(undefined);
      expect(cpusOf(next, 'b')).to.equal(cpusOf(ledger, 'b'));
      const empty = run(machine(NO_ISOLATED), Ledger.EMPTY, percent('a', share));
      expect(empty.result.cores_allocated_count).to.equal(0);
    });
  }

  it('an empty pool answers NO_ISOLATED_CPUS', () => {
    domainError(
      () => run(machine(NO_ISOLATED), Ledger.EMPTY, percent('a', 50)),
      'NO_ISOLATED_CPUS',
    );
  });
});
