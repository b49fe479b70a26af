// Preemption policy: a "non-preemptive" service's CPUs are never taken by anyone,
// and such a service takes no one's. On the sample host (pool 2-15,18-31; node 0 = 0-7,16-23 with
// pool CPUs 2-7,18-23; node 1 = 8-15,24-31; cpu i and i+16 siblings).
import { expect } from 'chai';
import { Ledger } from '../../src/allocator/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, apply, cores, cpusOf, domainError, list, machine, numa, percent, release, run } from './allocator-harness.js';

const sample = machine(SAMPLE);
const PROTECTED = { preemption_policy: 'non-preemptive' } as const;
const LEGACY = { preemption_policy: 'legacy' } as const;
const policyOf = (ledger: Ledger, service: string) => list(sample, ledger).allocations.find((a) => a.service_name === service)?.preemption_policy;

describe('allocator: preemption policy', () => {
  describe('which policy a service has', () => {
    it('starts as legacy when the request names none', () => {
      expect(run(sample, Ledger.EMPTY, cores('vm', 2)).result.preemption_policy).to.equal('legacy');
      expect(run(sample, Ledger.EMPTY, percent('vm', 10)).result.preemption_policy).to.equal('legacy');
      expect(run(sample, Ledger.EMPTY, numa('vm', 1, 2)).result.preemption_policy).to.equal('legacy');
    });

    it('takes the policy asked for, and keeps it on every later request that names none', () => {
      let ledger = after(sample, [cores('osd', 2, PROTECTED)]);
      expect(policyOf(ledger, 'osd')).to.equal('non-preemptive');
      const grown = run(sample, ledger, cores('osd', 4));
      expect(grown.result.preemption_policy).to.equal('non-preemptive');
      ledger = grown.next;
      const pinned = run(sample, ledger, numa('osd', 1, 2));
      expect(pinned.result.preemption_policy).to.equal('non-preemptive');
      const share = run(sample, pinned.next, percent('osd', 25));
      expect(share.result.preemption_policy).to.equal('non-preemptive');
      expect(policyOf(share.next, 'osd')).to.equal('non-preemptive');
    });

    it('upgrades a legacy service, and asking non-preemptive again is no change', () => {
      const ledger = after(sample, [cores('osd', 2)]);
      const { next, result } = run(sample, ledger, cores('osd', 2, PROTECTED));
      expect(result).to.deep.include({ allocated_cores: '2,18', preemption_policy: 'non-preemptive' });
      const again = run(sample, next, cores('osd', 2, PROTECTED));
      expect(again.result.allocated_cores).to.equal('2,18');
    });

    it('lets a legacy service ask legacy, and a fresh service ask either', () => {
      const ledger = after(sample, [cores('vm', 2)]);
      expect(run(sample, ledger, cores('vm', 4, LEGACY)).result.preemption_policy).to.equal('legacy');
      expect(run(sample, Ledger.EMPTY, numa('osd', 0, 2, PROTECTED)).result.preemption_policy).to.equal('non-preemptive');
    });
  });

  describe('upgrading protects every CPU of the service, on every node', () => {
    // osd: automatic 2-3,18-19 on node 0, then explicit CPUs on node 1 asked as non-preemptive.
    const legacy = after(sample, [cores('osd', 4), numa('osd', 1, 2)]);
    const upgraded = after(sample, [numa('osd', 1, 2, PROTECTED)], legacy);

    it('while legacy, its automatic CPUs on node 0 may be preempted', () => {
      const { next, result } = run(sample, legacy, numa('vm', 0, 12));
      expect(result.preempted).to.deep.equal([{ service_name: 'osd', cores: '2-3,18-19' }]);
      expect(cpusOf(next, 'osd')).to.equal('8,24');
    });

    it('once protected, they are not: the NUMA request gets INSUFFICIENT_CPUS and nothing changes', () => {
      expect(cpusOf(upgraded, 'osd')).to.equal('2-3,8,18-19,24');
      const err = domainError(() => run(sample, upgraded, numa('vm', 0, 12)), 'INSUFFICIENT_CPUS');
      expect([err.code, err.message]).to.deep.equal([-32002, 'NUMA node 0 only has 8 isolated CPUs, but 12 were requested']);
      expect(err.data).to.deep.include({ requested: 12, available: 8 });
      // What free CPUs allow still works, and leaves osd alone.
      const { next, result } = run(sample, upgraded, numa('vm', 0, 8));
      expect(result).to.deep.include({ cores_allocated: '4-7,20-23', preempted: [] });
      expect(cpusOf(next, 'osd')).to.equal('2-3,8,18-19,24');
    });

    it('lists the policy on the entry, and protects CPUs kept from before the upgrade by allocate_cores too', () => {
      const viaCores = after(sample, [cores('osd', 4, PROTECTED)], legacy);
      expect(list(sample, viaCores).allocations).to.have.length(1);
      expect(list(sample, viaCores).allocations[0]).to.deep.include({ service_name: 'osd', preemption_policy: 'non-preemptive' });
      domainError(() => run(sample, viaCores, numa('vm', 0, 12)), 'INSUFFICIENT_CPUS');
    });
  });

  describe('downgrading to legacy', () => {
    const held = after(sample, [cores('osd', 2, PROTECTED), numa('osd', 1, 2)]);

    it('is refused with POLICY_CONFLICT on every method while the service keeps protected CPUs', () => {
      const requests = [
        cores('osd', 2, LEGACY),
        cores('osd', 0, LEGACY),
        percent('osd', 10, LEGACY),
        numa('osd', 1, 2, LEGACY),
        numa('osd', 0, 2, LEGACY),
        // Releasing one node still leaves protected CPUs on the other.
        numa('osd', 1, -1, LEGACY),
      ];
      for (const request of requests) {
        const err = domainError(() => apply(sample, held, request), 'POLICY_CONFLICT');
        expect([err.code, err.message]).to.deep.equal([-32007, 'Fully release protected claims before selecting legacy policy']);
        expect(err.data).to.deep.equal({ reason: 'POLICY_CONFLICT' });
      }
    });

    it('is possible after a full release, which drops the policy (null in the result)', () => {
      const { next, result } = run(sample, held, cores('osd', -1));
      expect(result).to.deep.include({ allocated_cores: '', preemption_policy: null });
      expect(run(sample, next, cores('osd', 2, LEGACY)).result.preemption_policy).to.equal('legacy');
      // Omitted after a full release: a fresh start, legacy again.
      expect(run(sample, next, cores('osd', 2)).result.preemption_policy).to.equal('legacy');
    });

    it('drops the policy on every kind of full release', () => {
      const onOneNode = after(sample, [numa('osd', 1, 2, PROTECTED)]);
      const byNode = run(sample, onOneNode, numa('osd', 1, -1));
      expect(byNode.result).to.deep.include({ cores_allocated: '', preemption_policy: null });
      expect(run(sample, byNode.next, cores('osd', 2)).result.preemption_policy).to.equal('legacy');

      const byPercent = run(sample, held, percent('osd', 0));
      expect(byPercent.result).to.deep.include({ allocated_cores: '', preemption_policy: null });
      const byRelease = after(sample, [release('osd')], held);
      expect(run(sample, byRelease, numa('osd', 0, 2)).result.preemption_policy).to.equal('legacy');
    });

    it('accepts a full release that names legacy: nothing protected is kept', () => {
      expect(run(sample, held, cores('osd', -1, LEGACY)).result.preemption_policy).to.equal(null);
      const onOneNode = after(sample, [numa('osd', 1, 2, PROTECTED)]);
      expect(run(sample, onOneNode, numa('osd', 1, -1, LEGACY)).result.preemption_policy).to.equal(null);
    });

    it('keeps the policy of a partial release on one node', () => {
      const { next, result } = run(sample, held, numa('osd', 1, -1));
      expect(result).to.deep.include({ cores_allocated: '', preemption_policy: 'non-preemptive' });
      expect(policyOf(next, 'osd')).to.equal('non-preemptive');
    });
  });

  describe('preemption by NUMA requests', () => {
    it('takes automatic CPUs of legacy services only, never of protected ones', () => {
      // Node 1: "auto" (legacy) holds 8-11,24-27 and "osd" (protected) 12-15,28-31, both automatic.
      const ledger = after(sample, [numa('fill', 0, 12), cores('auto', 8), cores('osd', 8, PROTECTED), release('fill')]);
      expect([cpusOf(ledger, 'auto'), cpusOf(ledger, 'osd')]).to.deep.equal(['8-11,24-27', '12-15,28-31']);
      const { next, result } = run(sample, ledger, numa('pin', 1, 4));
      expect(result.preempted).to.deep.equal([{ service_name: 'auto', cores: '8-9,24-25' }]);
      expect(cpusOf(next, 'osd')).to.equal('12-15,28-31');
      const err = domainError(() => run(sample, ledger, numa('pin', 1, 9)), 'INSUFFICIENT_CPUS');
      expect(err.data).to.deep.include({ requested: 9, available: 8 });
    });

    it('a non-preemptive request takes no other service\'s CPUs, not even legacy automatic ones', () => {
      // "auto" holds 8-14,24-30 of node 1; only 15,31 are free there.
      const ledger = after(sample, [cores('auto', 14)]);
      expect(cpusOf(ledger, 'auto')).to.equal('8-14,24-30');
      const err = domainError(() => run(sample, ledger, numa('osd', 1, 4, PROTECTED)), 'INSUFFICIENT_CPUS');
      expect(err.message).to.equal('NUMA node 1 only has 2 isolated CPUs, but 4 were requested');
      const { next, result } = run(sample, ledger, numa('osd', 1, 2, PROTECTED));
      expect(result).to.deep.include({ cores_allocated: '15,31', preempted: [], preemption_policy: 'non-preemptive' });
      expect(cpusOf(next, 'auto')).to.equal('8-14,24-30');
      // A protected service that names no policy is still a non-preemptive requester.
      domainError(() => run(sample, next, numa('osd', 1, 4)), 'INSUFFICIENT_CPUS');
      // The same request as legacy would have preempted.
      expect(run(sample, ledger, numa('vm', 1, 4)).result.preempted).to.deep.equal([{ service_name: 'auto', cores: '8,24' }]);
    });

    it('a protected service growing on a node keeps its own CPUs there and adds only free ones', () => {
      // osd (protected) holds 8-9,24-25 of node 1; "auto" 10-14,26-30; only 15,31 are free there.
      const ledger = after(sample, [numa('fill', 0, 12), numa('osd', 1, 4, PROTECTED), cores('auto', 10), release('fill')]);
      expect(cpusOf(ledger, 'auto')).to.equal('10-14,26-30');
      const { next, result } = run(sample, ledger, numa('osd', 1, 6));
      expect(result).to.deep.include({ cores_allocated: '8-9,15,24-25,31', preempted: [] });
      expect(cpusOf(next, 'auto')).to.equal('10-14,26-30');
      const err = domainError(() => run(sample, ledger, numa('osd', 1, 7)), 'INSUFFICIENT_CPUS');
      expect(err.data).to.deep.include({ requested: 7, available: 6 });
    });

    it('allocate_cores of a protected service takes only free CPUs, like every automatic request', () => {
      const ledger = after(sample, [cores('vm', 24)]);
      const err = domainError(() => run(sample, ledger, cores('osd', 5, PROTECTED)), 'INSUFFICIENT_CPUS');
      expect(err.data).to.deep.include({ requested: 5, available: 4 });
    });
  });
});
