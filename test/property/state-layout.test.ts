// Any ledger survives a trip through the state file: every service record comes back as it was.
import { expect } from 'chai';
import fc from 'fast-check';
import { Ledger } from '../../src/allocator/index.js';
import type { ServiceRecord } from '../../src/allocator/index.js';
import { CpuSet } from '../../src/cpuset/index.js';
import { decodeState, encodeState } from '../../src/state/index.js';
import { plain } from '../unit/state-harness.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');

const serviceName = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,20}$/),
  fc.constantFrom('constructor', '__proto__', 'toString', '0', '10', '9'),
);
const reservation = fc.record({
  node_id: fc.nat(7),
  size_kb: fc.constantFrom(64, 2048, 1048576),
  count: fc.integer({ min: 1, max: 2 ** 31 }),
});
const service = fc.record({
  name: serviceName,
  policy: fc.constantFrom('legacy' as const, 'non-preemptive' as const),
  pool: fc.constantFrom('isolated' as const, 'general' as const),
  hugepages: fc.uniqueArray(reservation, { selector: (h) => `${h.node_id}:${h.size_kb}`, maxLength: 4 }),
});
// Each CPU goes to at most one service (the first claim wins); some claims are explicit.
const claim = fc.record({ cpu: fc.oneof(fc.nat(63), fc.nat(4000)), owner: fc.nat(), explicit: fc.boolean() });

const ledgers = fc
  .record({
    services: fc.uniqueArray(service, { selector: (s) => s.name, maxLength: 8 }),
    claims: fc.array(claim, { maxLength: 100 }),
  })
  .map(({ services, claims }) => {
    const cpus = services.map(() => new Set<number>());
    const explicit = services.map(() => new Set<number>());
    const taken = new Set<number>();
    for (const c of claims) {
      if (services.length === 0 || taken.has(c.cpu)) continue;
      taken.add(c.cpu);
      const i = c.owner % services.length;
      cpus[i]?.add(c.cpu);
      if (c.explicit) explicit[i]?.add(c.cpu);
    }
    return Ledger.fromRecords(
      services.map((s, i): [string, ServiceRecord] => {
        const held = CpuSet.from(cpus[i] ?? []);
        return [
          s.name,
          {
            cpus: held,
            explicit: CpuSet.from(explicit[i] ?? []),
            // Policy and pool mean something only while the service holds CPUs.
            policy: held.isEmpty() ? 'legacy' : s.policy, threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY,
            pool: held.isEmpty() ? 'isolated' : s.pool,
            hugepages: [...s.hugepages].sort((a, b) => a.node_id - b.node_id || a.size_kb - b.size_kb),
          },
        ];
      }),
    );
  });

describe('state file round trip', () => {
  it('decode(encode(L)) has every service record of L', () => {
    fc.assert(
      fc.property(ledgers, (ledger) => {
        const text = encodeState(ledger, NOW);
        const back = decodeState(text, '/state.json');
        expect(plain(back)).to.deep.equal(plain(ledger));
        expect(encodeState(back, NOW)).to.equal(text);
      }),
    );
  });

  it('writes the policy and pool maps only when a service needs them', () => {
    fc.assert(
      fc.property(ledgers, (ledger) => {
        const db = (JSON.parse(encodeState(ledger, NOW)) as { allocations_db: object }).allocations_db;
        const holding = ledger.entries().filter(([, r]) => !r.cpus.isEmpty());
        expect('preemption_policies' in db).to.equal(holding.some(([, r]) => r.policy !== 'legacy'));
        expect('allocation_pools' in db).to.equal(holding.some(([, r]) => r.pool !== 'isolated'));
      }),
    );
  });
});
