// Policies and pools in the state file: the policy and pool maps survive a daemon's changes and
// restarts byte for byte, and a file whose maps cannot be right is refused. (Loading the maps, a
// file without them, and the refusals of unknown values and entries of absent services are in
// state-layout.test.ts and the round-trip property.)
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerStore, StateFileError, decodeState, encodeState, loadState } from '../../src/state/index.js';
import { TempDirs, ledgerOf, plain, put, record } from './state-harness.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

// As this daemon writes it: a protected general service, a protected isolated one, a legacy one.
const OURS =
  '{"allocations_db":{"allocation_pools":{"osd":"general"},' +
  '"allocations":{"osd":"0,16","pinned":"8,24","vm":"2-3,18-19"},"explicit_allocations":{"pinned":"8,24"},' +
  '"preemption_policies":{"osd":"non-preemptive","pinned":"non-preemptive"}},' +
  '"hugepages_db":{"allocations":{}},"updated_at":"2026-03-01T12:00:00.000Z","version":1}';

describe('state file: policies and pools', () => {
  const dirs = new TempDirs();
  const stores: LedgerStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await dirs.cleanup();
  });
  const open = async (dir: string) => {
    const store = await LedgerStore.open(dir);
    stores.push(store);
    return store;
  };

  it('reads a file with both maps and writes it back identically', () => {
    const ledger = decodeState(OURS, '/state.json');
    expect(plain(ledger)).to.deep.equal(
      plain(
        ledgerOf({
          osd: record('0,16', { policy: 'non-preemptive', pool: 'general' }),
          pinned: record('8,24', { explicit: '8,24', policy: 'non-preemptive' }),
          vm: record('2-3,18-19'),
        }),
      ),
    );
    expect(encodeState(ledger, NOW)).to.equal(OURS);
  });

  it("keeps every service's entries through another service's change, and drops them with the service's CPUs", async () => {
    const dir = await dirs.make();
    const path = join(dir, 'state.json');
    await writeFile(path, OURS);
    const store = await open(dir);
    await store.update(put('new', record('4-5')));
    const afterChange = JSON.parse(await readFile(path, 'utf8')) as { allocations_db: Record<string, unknown> };
    expect(afterChange.allocations_db).to.deep.include({
      allocation_pools: { osd: 'general' },
      preemption_policies: { osd: 'non-preemptive', pinned: 'non-preemptive' },
    });

    // osd keeps only hugepages: its policy and pool go (an entry without CPUs would be invalid).
    await store.update(put('osd', record('', { hugepages: [{ node_id: 0, size_kb: 2048, count: 2 }] })));
    await store.update(put('pinned', record('')));
    const text = await readFile(path, 'utf8');
    const db = (JSON.parse(text) as { allocations_db: Record<string, unknown> }).allocations_db;
    expect(db).to.deep.equal({ allocations: { new: '4-5', vm: '2-3,18-19' }, explicit_allocations: {} });
    expect(plain(await loadState(path))).to.deep.equal(
      plain(
        ledgerOf({
          new: record('4-5'),
          osd: record('', { hugepages: [{ node_id: 0, size_kb: 2048, count: 2 }] }),
          vm: record('2-3,18-19'),
        }),
      ),
    );
  });

  it('loads the Python snap\'s explicit "legacy" and "isolated" entries, and writes the same ledger without them', () => {
    const python =
      '{"allocations_db":{"allocation_pools":{"a":"isolated","b":"general"},"allocations":{"a":"2","b":"0"},' +
      '"explicit_allocations":{},"preemption_policies":{"a":"legacy","b":"legacy"}},' +
      '"hugepages_db":{"allocations":{}},"updated_at":"2025-11-02T09:15:27.123456+00:00","version":1}';
    const ledger = decodeState(python, '/state.json');
    const written = encodeState(ledger, NOW);
    expect(JSON.parse(written)).to.deep.include({
      allocations_db: { allocation_pools: { b: 'general' }, allocations: { a: '2', b: '0' }, explicit_allocations: {} },
    });
    expect(plain(decodeState(written, '/state.json'))).to.deep.equal(plain(ledger));
  });

  describe('refuses, naming the file', () => {
    const file = (allocationsDb: object, hugepages: object = {}) =>
      JSON.stringify({ version: 1, allocations_db: allocationsDb, hugepages_db: { allocations: hugepages } });
    const pages = { h: [{ node_id: 0, size_kb: 2048, count: 8 }] };
    const cases: [string, string, string][] = [
      [
        'a policy of a service that holds only hugepages',
        file({ allocations: {}, preemption_policies: { h: 'non-preemptive' } }, pages),
        'preemption_policies has an entry for service "h", which holds no CPUs',
      ],
      [
        'a pool of a service that holds only hugepages',
        file({ allocations: { h: '' }, allocation_pools: { h: 'general' } }, pages),
        'allocation_pools has an entry for service "h", which holds no CPUs',
      ],
      ['a policy that is not a string', file({ allocations: { a: '1' }, preemption_policies: { a: null } }), '/allocations_db/preemption_policies/a'],
      ['a policy map that is a list', file({ allocations: { a: '1' }, preemption_policies: ['legacy'] }), '/allocations_db/preemption_policies'],
      ['a pool map that is a string', file({ allocations: { a: '1' }, allocation_pools: 'general' }), '/allocations_db/allocation_pools'],
      ['a policy in another case', file({ allocations: { a: '1' }, preemption_policies: { a: 'Non-Preemptive' } }), 'must be one of'],
    ];
    for (const [label, text, problem] of cases) {
      it(label, async () => {
        const dir = await dirs.make();
        const path = join(dir, 'state.json');
        await writeFile(path, text);
        const error = await LedgerStore.open(dir).then(
          (store) => {
            stores.push(store);
            return expect.fail('the store opened');
          },
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(StateFileError);
        expect((error as Error).message).to.include(path).and.to.include(problem);
        expect(await readFile(path, 'utf8')).to.equal(text);
      });
    }
  });
});
