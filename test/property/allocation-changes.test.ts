// allocation_changed, as the allocator derives it: over random hosts and request sequences, the
// entries of each change are exactly the services whose holdings differ between the ledgers
// before and after it (compared whole, not through what the change touched), each with the
// right cause, and replaying the entries onto the ledger before gives the ledger after.
import { expect } from 'chai';
import fc from 'fast-check';
import { DomainError, type AllocationChangedParams } from '../../schema/index.js';
import { allocationChanges, type Ledger } from '../../src/allocator/index.js';
import { fakeHost } from '../fixtures/host.js';
import { apply, machine } from '../unit/allocator-harness.js';
import { ledgerOf, scenario } from './arbitraries.js';

type Holdings = { readonly cores: string; readonly pool: string; readonly hugepages: string };

/** Every service's holdings, from the records themselves. */
function holdings(ledger: Ledger): Map<string, Holdings> {
  return new Map(
    ledger.entries().map(([name, r]) => [name, { cores: r.cpus.toString(), pool: r.pool, hugepages: JSON.stringify(r.hugepages) }]),
  );
}

const NOTHING: Holdings = { cores: '', pool: '', hugepages: '[]' };

describe('property: allocation_changed entries of a change', () => {
  it('name exactly the services whose holdings differ, with their before and after, and the cause', () => {
    fc.assert(
      fc.property(scenario, ({ spec, start, requests }) => {
        const m = machine(fakeHost(spec));
        let ledger = ledgerOf(start);
        for (const request of requests) {
          let next: Ledger;
          try {
            next = apply(m, ledger, request).next;
          } catch (error) {
            if (error instanceof DomainError) continue;
            throw error;
          }
          const origin = { service: request.params.service_name, method: request.method };
          const entries = allocationChanges(ledger, next, origin);
          const before = holdings(ledger);
          const after = holdings(next);
          const differing = [...new Set([...before.keys(), ...after.keys()])].filter((name) => {
            const a = before.get(name) ?? NOTHING;
            const b = after.get(name) ?? NOTHING;
            return a.cores !== b.cores || a.hugepages !== b.hugepages || (a.cores !== '' && b.cores !== '' && a.pool !== b.pool);
          });
          expect(entries.map((e) => e.service_name).sort()).to.deep.equal(differing.sort());
          for (const entry of entries) check(entry, ledger, next, origin);
          ledger = next;
        }
      }),
      { numRuns: 150 },
    );
  });
});

function check(entry: AllocationChangedParams, before: Ledger, after: Ledger, origin: { service: string; method: string }): void {
  const was = before.recordOf(entry.service_name);
  const now = after.recordOf(entry.service_name);
  expect(entry.cores_before).to.equal(was.cpus.toString());
  expect(entry.cores_after).to.equal(now.cpus.toString());
  expect(entry.hugepages_before).to.deep.equal(was.hugepages);
  expect(entry.hugepages_after).to.deep.equal(now.hugepages);
  expect(entry.pool).to.equal(now.cpus.isEmpty() ? was.pool : now.pool);
  if (entry.service_name !== origin.service) {
    expect(entry.cause).to.equal('preempted');
    expect(origin.method, 'only a NUMA request takes CPUs from another service').to.equal('allocate_numa_cores');
    expect(now.cpus.isSubsetOf(was.cpus) && now.cpus.size < was.cpus.size, 'a preempted service only loses CPUs').to.equal(true);
  } else {
    expect(entry.cause).to.equal(origin.method === 'release_service' ? 'released' : 'request');
  }
}
