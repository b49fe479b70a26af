import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import { NO_NUMA_DIRS, SAMPLE } from '../fixtures/hosts.js';
import { after, cores, cpusOf, domainError, list, machine, numa, run } from './allocator-harness.js';

const sample = machine(SAMPLE);
const explicitOf = (ledger: Ledger, service: string) => ledger.recordOf(service).explicit.toString();

describe('allocator: allocate_numa_cores', () => {
  it('takes N CPUs of the node, whole cores first, as explicit CPUs', () => {
    const { next, result } = run(sample, Ledger.EMPTY, numa('ovs', 1, 4));
    expect(result).to.deep.equal({
      service_name: 'ovs',
      numa_node: 1,
      num_of_cores: 4,
      cores_allocated: '8-9,24-25',
      total_available_cpus: 28,
      remaining_available_cpus: 24,
      preempted: [],
      preemption_policy: 'legacy',
      cpu_thread_policy: 'prefer',
      isolated_siblings: '',
      pool: 'isolated',
    });
    expect(explicitOf(next, 'ovs')).to.equal('8-9,24-25');
  });

  it('replaces the service CPUs on that node: shrinking keeps whole cores, growing keeps what it holds', () => {
    let ledger = after(sample, [numa('ovs', 1, 4), numa('ovs', 1, 2)]);
    expect(cpusOf(ledger, 'ovs')).to.equal('8,24');
    ledger = after(sample, [numa('ovs', 1, 6)], ledger);
    expect(cpusOf(ledger, 'ovs')).to.equal('8-10,24-26');
  });

  it('appends across nodes: CPUs on other nodes stay', () => {
    const ledger = after(sample, [numa('ovs', 1, 2)]);
    const { next, result } = run(sample, ledger, numa('ovs', 0, 2));
    expect(result.cores_allocated).to.equal('2,18');
    expect(cpusOf(next, 'ovs')).to.equal('2,8,18,24');
    expect(explicitOf(next, 'ovs')).to.equal('2,8,18,24');
  });

  it("keeps the service's automatic CPUs on the node as candidates and makes the kept ones explicit", () => {
    const ledger = after(sample, [cores('vm', 4)]);
    const { next, result } = run(sample, ledger, numa('vm', 0, 2));
    expect(result.cores_allocated).to.equal('2,18');
    expect(result.preempted).to.deep.equal([]);
    expect(cpusOf(next, 'vm')).to.equal('2,18');
    expect(explicitOf(next, 'vm')).to.equal('2,18');
  });

  it("never takes another service's explicit CPUs, by NUMA request or by allocate_cores", () => {
    const ledger = after(sample, [numa('a', 1, 10)]);
    expect(cpusOf(ledger, 'a')).to.equal('8-12,24-28');
    const err = domainError(
      () => run(sample, ledger, numa('b', 1, 7)),
      'INSUFFICIENT_CPUS',
    );
    expect(err.message).to.equal('NUMA node 1 only has 6 isolated CPUs, but 7 were requested');
    expect(err.data).to.deep.include({ requested: 7, available: 6 });
    const all = run(sample, ledger, cores('b', 18));
    expect(all.result.allocated_cores).to.equal('2-7,13-15,18-23,29-31');
    expect(cpusOf(all.next, 'a')).to.equal('8-12,24-28');
  });

  it('uses free CPUs before preempting: no preemption while free ones suffice', () => {
    const ledger = after(sample, [cores('auto', 8)]);
    expect(cpusOf(ledger, 'auto')).to.equal('2-5,18-21');
    const { next, result } = run(sample, ledger, numa('x', 0, 4));
    expect(result.cores_allocated).to.equal('6-7,22-23');
    expect(result.preempted).to.deep.equal([]);
    expect(cpusOf(next, 'auto')).to.equal('2-5,18-21');
  });

  it('preempts automatic CPUs only for what free CPUs do not cover, whole cores first', () => {
    const ledger = after(sample, [cores('auto', 11)]);
    expect(cpusOf(ledger, 'auto')).to.equal('2-7,18-22');
    const { next, result } = run(sample, ledger, numa('x', 0, 3));
    expect(result.cores_allocated).to.equal('2,18,23');
    expect(result.preempted).to.deep.equal([{ service_name: 'auto', cores: '2,18' }]);
    expect(cpusOf(next, 'auto')).to.equal('3-7,19-22');
    expect(result.remaining_available_cpus).to.equal(16);
  });

  it('lists every preempted service by name with the CPUs taken from it', () => {
    const ledger = after(sample, [cores('b-auto', 6), cores('a-auto', 6)]);
    expect(cpusOf(ledger, 'b-auto')).to.equal('2-4,18-20');
    expect(cpusOf(ledger, 'a-auto')).to.equal('5-7,21-23');
    const { next, result } = run(sample, ledger, numa('x', 0, 12));
    expect(result.cores_allocated).to.equal('2-7,18-23');
    expect(result.preempted).to.deep.equal([
      { service_name: 'a-auto', cores: '5-7,21-23' },
      { service_name: 'b-auto', cores: '2-4,18-20' },
    ]);
    expect(next.get('a-auto')).to.equal(undefined);
    expect(next.get('b-auto')).to.equal(undefined);
  });

  it("preemption leaves the victim's CPUs on other nodes alone", () => {
    const ledger = after(sample, [cores('auto', 20)]);
    expect(cpusOf(ledger, 'auto')).to.equal('2-3,8-15,18-19,24-31');
    const { next, result } = run(sample, ledger, numa('x', 0, 12));
    expect(result.preempted).to.deep.equal([{ service_name: 'auto', cores: '2-3,18-19' }]);
    expect(cpusOf(next, 'auto')).to.equal('8-15,24-31');
  });

  it('-1 releases the service CPUs on that node only', () => {
    const ledger = after(sample, [numa('ovs', 0, 2), numa('ovs', 1, 2)]);
    const { next, result } = run(sample, ledger, numa('ovs', 0, -1));
    expect(result).to.deep.include({ num_of_cores: -1, cores_allocated: '', remaining_available_cpus: 26, preempted: [] });
    expect(cpusOf(next, 'ovs')).to.equal('8,24');
    expect(explicitOf(next, 'ovs')).to.equal('8,24');
  });

  it('-1 on a node where the service holds nothing succeeds and changes nothing', () => {
    const ledger = after(sample, [numa('ovs', 1, 2)]);
    const { next, result } = run(sample, ledger, numa('ovs', 0, -1));
    expect(result.cores_allocated).to.equal('');
    expect(list(sample, next)).to.deep.equal(list(sample, ledger));
  });

  it('an unknown node answers NUMA_NODE_NOT_FOUND (-32003)', () => {
    for (const n of [4, -1]) {
      const err = domainError(
        () => run(sample, Ledger.EMPTY, numa('ovs', 7, n)),
        'NUMA_NODE_NOT_FOUND',
      );
      expect(err.code).to.equal(-32003);
      expect(err.message).to.equal('NUMA node 7 does not exist');
    }
  });

  it('a host without NUMA directories answers NUMA_TOPOLOGY_UNAVAILABLE (-32004), node 0 included', () => {
    const err = domainError(
      () => run(machine(NO_NUMA_DIRS), Ledger.EMPTY, numa('ovs', 0, 1)),
      'NUMA_TOPOLOGY_UNAVAILABLE',
    );
    expect(err.code).to.equal(-32004);
  });

  it('too few candidates answers INSUFFICIENT_CPUS and changes nothing', () => {
    const ledger = after(sample, [numa('a', 1, 13), cores('auto', 2), numa('b', 0, 2)]);
    const before = list(sample, ledger);
    const err = domainError(
      () => run(sample, ledger, numa('b', 1, 5)),
      'INSUFFICIENT_CPUS',
    );
    expect(err.code).to.equal(-32002);
    expect(err.message).to.equal('NUMA node 1 only has 3 isolated CPUs, but 5 were requested');
    expect(err.data).to.deep.include({ requested: 5, available: 3 });
    expect(list(sample, ledger)).to.deep.equal(before);
  });
});
