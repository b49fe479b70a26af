// Thread policies and isolated siblings in the state file: written only when used, read back
// identically, and a file whose entries cannot be right is refused like any other.
import { expect } from 'chai';
import { StateFileError, decodeState, encodeState } from '../../src/state/index.js';
import { ledgerOf, plain, record } from './state-harness.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

const OURS =
  '{"allocations_db":{"allocations":{"dpdk":"2-3","nova":"8-9,24-25","vm":"4,20"},' +
  '"explicit_allocations":{"dpdk":"2-3"},"isolated_siblings":{"dpdk":"18-19"},' +
  '"thread_policies":{"dpdk":"isolate","nova":"require"}},' +
  '"hugepages_db":{"allocations":{}},"updated_at":"2026-03-01T12:00:00.000Z","version":1}';

const withDb = (db: object) => JSON.stringify({ version: 1, allocations_db: db });

describe('state file: thread policies and isolated siblings', () => {
  it('reads both maps and writes the file back identically; prefer services are not listed', () => {
    const ledger = decodeState(OURS, '/state.json');
    expect(plain(ledger)).to.deep.equal(
      plain(
        ledgerOf({
          dpdk: record('2-3', { explicit: '2-3', threadPolicy: 'isolate', siblings: '18-19' }),
          nova: record('8-9,24-25', { threadPolicy: 'require' }),
          vm: record('4,20'),
        }),
      ),
    );
    expect(ledger.owned.toString()).to.equal('2-4,8-9,18-20,24-25');
    expect(encodeState(ledger, NOW)).to.equal(OURS);
  });

  it('an older file without them loads with every service on prefer, and is written without them', () => {
    const older = withDb({ allocations: { vm: '4,20' } });
    const ledger = decodeState(older, '/state.json');
    expect(ledger.recordOf('vm').threadPolicy).to.equal('prefer');
    expect(encodeState(ledger, NOW)).not.to.match(/thread_policies|isolated_siblings/);
  });

  const refusals: [string, object, RegExp][] = [
    ['an unknown policy', { allocations: { a: '2' }, thread_policies: { a: 'sometimes' } }, /thread_policies\/a must be one of/],
    ['a policy of a service without CPUs', { allocations: { a: '2' }, thread_policies: { b: 'require' } }, /thread_policies has an entry for service "b"/],
    ['siblings without the isolate policy', { allocations: { a: '2' }, isolated_siblings: { a: '18' } }, /whose thread policy is not isolate/],
    [
      'siblings another service holds',
      { allocations: { a: '2', b: '18' }, isolated_siblings: { a: '18' }, thread_policies: { a: 'isolate' } },
      /CPU 18 is held by both/,
    ],
    ['siblings that are not a cpulist', { allocations: { a: '2' }, isolated_siblings: { a: 'x' }, thread_policies: { a: 'isolate' } }, /isolated_siblings of service "a"/],
  ];
  for (const [what, db, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => decodeState(withDb(db), '/state.json'))
        .to.throw(StateFileError)
        .with.property('message')
        .that.matches(message);
    });
  }
});
