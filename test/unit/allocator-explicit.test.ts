// explicitly_allocate_cores on the sample host (pool 2-15,18-31; cpu i and i+16 are siblings).
import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, cores, cpusOf, domainError, explicit, list, machine, numa, run } from './allocator-harness.js';

const sample = machine(SAMPLE);

describe('allocator: explicitly_allocate_cores', () => {
  it('gives the requested CPUs as explicit CPUs, with the Python fields and ours', () => {
    const { next, result } = run(sample, Ledger.EMPTY, explicit('osd', '4-5,20-21'));
    expect(result).to.deep.equal({
      service_name: 'osd',
      cores_requested: '4-5,20-21',
      cores_allocated: '4-5,20-21',
      cores_rejected: '',
      total_available_cpus: 28,
      remaining_available_cpus: 24,
      preempted: [],
      preemption_policy: 'legacy',
      pool: 'isolated',
      cpu_thread_policy: 'prefer',
      isolated_siblings: '',
    });
    expect(list(sample, next).allocations[0]).to.deep.include({ is_explicit: true, explicit_cores: '4-5,20-21' });
  });

  it('rejects CPUs out of the pool and CPUs another service holds explicitly', () => {
    const ledger = after(sample, [numa('ovs', 1, 2)]);
    const { result } = run(sample, ledger, explicit('osd', '0,8-9'));
    expect(result).to.deep.include({ cores_allocated: '9', cores_rejected: '0,8' });
  });

  it("preempts legacy services' automatic CPUs, and never a protected service's", () => {
    const ledger = after(sample, [cores('vm', 4), cores('ceph', 2, { preemption_policy: 'non-preemptive' })]);
    expect([cpusOf(ledger, 'vm'), cpusOf(ledger, 'ceph')]).to.deep.equal(['2-3,18-19', '4,20']);
    const { next, result } = run(sample, ledger, explicit('osd', '3-4,19'));
    expect(result).to.deep.include({ cores_allocated: '3,19', cores_rejected: '4', preempted: [{ service_name: 'vm', cores: '3,19' }] });
    expect(cpusOf(next, 'vm')).to.equal('2,18');
  });

  it('a non-preemptive request takes nobody’s CPUs', () => {
    const ledger = after(sample, [cores('vm', 4)]);
    const { result } = run(sample, ledger, explicit('osd', '3,5', { preemption_policy: 'non-preemptive' }));
    expect(result).to.deep.include({ cores_allocated: '5', cores_rejected: '3', preempted: [], preemption_policy: 'non-preemptive' });
  });

  it('replaces every CPU the service held, and its CPUs are never taken by a NUMA request', () => {
    const ledger = after(sample, [cores('osd', 4), explicit('osd', '8-15,24-31')]);
    expect(cpusOf(ledger, 'osd')).to.equal('8-15,24-31');
    domainError(() => run(sample, ledger, numa('ovs', 1, 1)), 'INSUFFICIENT_CPUS');
  });

  it('when no requested CPU can be given: INSUFFICIENT_CPUS with the Python sentence, and nothing changes', () => {
    const ledger = after(sample, [numa('ovs', 1, 2)]);
    const error = domainError(() => run(sample, ledger, explicit('osd', '0-1,8')), 'INSUFFICIENT_CPUS');
    expect(error.message).to.equal('Failed to allocate requested explicit cores; conflicts with existing explicit allocations: 0-1,8');
    expect(error.data).to.deep.include({ requested: 3, available: 0 });
  });

  it('require keeps whole requested cores only; isolate takes one thread per whole core and holds its sibling', () => {
    const required = run(sample, Ledger.EMPTY, explicit('osd', '4-5,20', { cpu_thread_policy: 'require' })).result;
    expect(required).to.deep.include({ cores_allocated: '4,20', cores_rejected: '5' });
    const isolated = run(sample, Ledger.EMPTY, explicit('osd', '4-5,20', { cpu_thread_policy: 'isolate' })).result;
    expect(isolated).to.deep.include({ cores_allocated: '4-5', cores_rejected: '20', isolated_siblings: '20-21' });
  });
});
