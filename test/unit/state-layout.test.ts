// The state file: what the Python snap wrote loads intact, what we write is that layout, and every
// invalid file stops the daemon naming the file, which is left exactly as it was.
import { expect } from 'chai';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ledger } from '../../src/allocator/index.js';
import { LedgerStore, StateFileError, decodeState, encodeState } from '../../src/state/index.js';
import { TempDirs, ledgerOf, plain, record } from './state-harness.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const PATH = '/var/snap/epa-orchestrator/common/data/state.json';

// As the Python daemon writes it: sorted keys, no spaces, a Python timestamp, no policy/pool maps.
const PYTHON_FILE =
  '{"allocations_db":{"allocations":{"nova-compute":"2-3,18-19","ovs-dpdk":"8,24","ceph-osd":"4-7"},' +
  '"explicit_allocations":{"ovs-dpdk":"8,24"}},' +
  '"hugepages_db":{"allocations":{"ovs-dpdk":[{"count":4,"node_id":1,"size_kb":1048576},' +
  '{"count":512,"node_id":0,"size_kb":2048}],"hugepage-only":[{"count":8,"node_id":0,"size_kb":2048}]}},' +
  '"updated_at":"2025-11-02T09:15:27.123456+00:00","version":1}';

describe('state file layout', () => {
  describe('reading what the Python snap wrote', () => {
    it('keeps every allocation, the explicit ones, and the hugepage reservations', () => {
      const ledger = decodeState(PYTHON_FILE, PATH);
      expect(plain(ledger)).to.deep.equal(
        plain(
          ledgerOf({
            'ceph-osd': record('4-7'),
            'hugepage-only': record('', { hugepages: [{ node_id: 0, size_kb: 2048, count: 8 }] }),
            'nova-compute': record('2-3,18-19'),
            'ovs-dpdk': record('8,24', {
              explicit: '8,24',
              hugepages: [
                { node_id: 0, size_kb: 2048, count: 512 },
                { node_id: 1, size_kb: 1048576, count: 4 },
              ],
            }),
          }),
        ),
      );
      expect(ledger.ownerOf(24)).to.equal('ovs-dpdk');
      expect(ledger.reserved(0, 2048)).to.equal(520);
    });

    it('reads the newer policy and pool maps, "legacy" and "isolated" entries included', () => {
      const text = JSON.stringify({
        version: 1,
        updated_at: '2025-11-02T09:15:27+00:00',
        allocations_db: {
          allocations: { a: '0-1', b: '2', c: '10-11' },
          explicit_allocations: {},
          preemption_policies: { a: 'non-preemptive', b: 'legacy', c: 'legacy' },
          allocation_pools: { a: 'isolated', b: 'isolated', c: 'general' },
        },
        hugepages_db: { allocations: {} },
      });
      expect(plain(decodeState(text, PATH))).to.deep.equal(
        plain(ledgerOf({ a: record('0-1', { policy: 'non-preemptive' }), b: record('2'), c: record('10-11', { pool: 'general' }) })),
      );
    });

    it('accepts missing sections, a service with "" CPUs, and non-canonical cpulists', () => {
      expect(decodeState('{"version":1}', PATH).serviceCount).to.equal(0);
      const ledger = decodeState(
        '{"version":1,"allocations_db":{"allocations":{"gone":"","a":"3,1,2 "},"explicit_allocations":{"gone":""}}}',
        PATH,
      );
      expect(plain(ledger)).to.deep.equal(plain(ledgerOf({ a: record('1-3') })));
    });

    it('treats service names as data, whatever they look like', () => {
      const ledger = decodeState('{"version":1,"allocations_db":{"allocations":{"constructor":"1","__proto__":"2"}}}', PATH);
      expect(plain(ledger)).to.deep.equal(
        plain(Ledger.fromRecords([['__proto__', record('2')], ['constructor', record('1')]])),
      );
      expect(plain(decodeState(encodeState(ledger, NOW), PATH))).to.deep.equal(plain(ledger));
    });
  });

  describe('writing', () => {
    it('writes the Python layout: sorted keys, no spaces, no empty policy or pool map', () => {
      const ledger = ledgerOf({
        b: record('4-5', { explicit: '5', hugepages: [{ node_id: 1, size_kb: 2048, count: 3 }] }),
        a: record('0-3'),
        h: record('', { hugepages: [{ node_id: 0, size_kb: 2048, count: 8 }] }),
      });
      expect(encodeState(ledger, NOW)).to.equal(
        '{"allocations_db":{"allocations":{"a":"0-3","b":"4-5"},"explicit_allocations":{"b":"5"}},' +
          '"hugepages_db":{"allocations":{"b":[{"count":3,"node_id":1,"size_kb":2048}],' +
          '"h":[{"count":8,"node_id":0,"size_kb":2048}]}},"updated_at":"2026-03-01T12:00:00.000Z","version":1}',
      );
    });

    it('records a policy only for protected services and a pool only for general ones', () => {
      const ledger = ledgerOf({
        a: record('0-1', { policy: 'non-preemptive' }),
        b: record('2-3', { pool: 'general' }),
        c: record('4'),
      });
      const file = JSON.parse(encodeState(ledger, NOW)) as { allocations_db: Record<string, unknown> };
      expect(file.allocations_db).to.deep.equal({
        allocation_pools: { b: 'general' },
        allocations: { a: '0-1', b: '2-3', c: '4' },
        explicit_allocations: {},
        preemption_policies: { a: 'non-preemptive' },
      });
      expect(plain(decodeState(encodeState(ledger, NOW), PATH))).to.deep.equal(plain(ledger));
    });

    it('writes an empty ledger as empty maps', () => {
      expect(JSON.parse(encodeState(Ledger.EMPTY, NOW))).to.deep.equal({
        allocations_db: { allocations: {}, explicit_allocations: {} },
        hugepages_db: { allocations: {} },
        updated_at: NOW.toISOString(),
        version: 1,
      });
    });
  });

  describe('refusing an invalid file', () => {
    const db = (allocationsDb: object, hugepages: object = {}) =>
      JSON.stringify({ version: 1, updated_at: 'x', allocations_db: allocationsDb, hugepages_db: { allocations: hugepages } });
    const hp = (node_id: number, size_kb: number, count: number) => ({ node_id, size_kb, count });

    const cases: [string, string | Buffer, string][] = [
      ['an empty file', '', 'the file is empty'],
      ['a file of blanks', ' \n', 'the file is empty'],
      ['a truncated file', PYTHON_FILE.slice(0, 80), 'not valid JSON'],
      ['text that is not JSON', 'allocations: none', 'not valid JSON'],
      ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not valid UTF-8'],
      ['a JSON array', '[]', 'the top level must be object'],
      ['another layout version', '{"version":2}', '/version must be 1'],
      ['no version', '{"allocations_db":{}}', "must have required property 'version'"],
      ['an unknown member', '{"version":1,"allocation_db":{}}', 'unknown member "allocation_db"'],
      ['a cpulist that is not a string', db({ allocations: { a: 3 } }), '/allocations_db/allocations/a must be string'],
      ['a reversed range', db({ allocations: { a: '3-1' } }), 'allocations of service "a": invalid cpulist "3-1"'],
      ['junk in a cpulist', db({ allocations: { a: '1,,2' } }), 'invalid cpulist'],
      ['a bad explicit cpulist', db({ allocations: { a: '1' }, explicit_allocations: { a: 'x' } }), 'explicit_allocations of service "a"'],
      ['a CPU held by two services', db({ allocations: { a: '0-3', b: '3-5' } }), 'CPU 3 is held by both "a" and "b"'],
      ['explicit CPUs not held', db({ allocations: { a: '0-1' }, explicit_allocations: { a: '1-2' } }), 'explicit CPUs 2 of service "a" are not in its allocation'],
      ['explicit CPUs of a service without CPUs', db({ allocations: {}, explicit_allocations: { b: '4' } }), 'explicit CPUs 4 of service "b"'],
      ['a policy of a service without CPUs', db({ allocations: { a: '1' }, preemption_policies: { b: 'legacy' } }), 'preemption_policies has an entry for service "b", which holds no CPUs'],
      ['a policy of a service holding ""', db({ allocations: { b: '' }, preemption_policies: { b: 'non-preemptive' } }), 'service "b", which holds no CPUs'],
      ['a pool of a service without CPUs', db({ allocations: {}, allocation_pools: { c: 'general' } }), 'allocation_pools has an entry for service "c", which holds no CPUs'],
      ['an unknown policy', db({ allocations: { a: '1' }, preemption_policies: { a: 'preemptive' } }), '/allocations_db/preemption_policies/a must be one of ["legacy","non-preemptive"]'],
      ['an unknown pool', db({ allocations: { a: '1' }, allocation_pools: { a: 'shared' } }), '/allocations_db/allocation_pools/a must be one of ["isolated","general"]'],
      ['a service name with a newline', db({ allocations: { 'a\nb': '1' } }), 'unknown member "a\\nb"'],
      ['two reservations of one node and size', db({}, { a: [hp(0, 2048, 1), hp(1, 2048, 1), hp(0, 2048, 2)] }), 'service "a" has two hugepage reservations for node 0 size 2048 KB'],
      ['a count of 0', db({}, { a: [hp(0, 2048, 0)] }), '/hugepages_db/allocations/a/0/count must be >= 1'],
      ['a negative count', db({}, { a: [hp(0, 2048, -1)] }), 'count must be >= 1'],
      ['a fractional count', db({}, { a: [hp(0, 2048, 1.5)] }), 'count must be integer'],
      ['a reservation without a size', db({}, { a: [{ node_id: 0, count: 1 }] }), "must have required property 'size_kb'"],
      ['a size of 0', db({}, { a: [hp(0, 0, 1)] }), 'size_kb must be >= 1'],
      ['hugepages that are not a list', db({}, { a: { node_id: 0 } }), '/hugepages_db/allocations/a must be array'],
    ];

    const dirs = new TempDirs();
    after(() => dirs.cleanup());

    for (const [label, content, problem] of cases) {
      it(`refuses ${label}, naming the file, and leaves it unchanged`, async () => {
        const dir = await dirs.make();
        const path = join(dir, 'state.json');
        await writeFile(path, content);
        const before = await readFile(path);

        const error = await LedgerStore.open(dir).then(
          () => expect.fail('the store opened'),
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(StateFileError);
        expect((error as Error).message).to.include(path).and.to.include(problem);
        expect(await readFile(path)).to.deep.equal(before);
        expect(await readdir(dir)).to.deep.equal(['state.json']); // the lock is released
      });
    }

    it('refuses a state file it cannot read, naming it', async () => {
      const dir = await dirs.make();
      await mkdir(join(dir, 'state.json'));
      const error = await LedgerStore.open(dir).then(
        () => expect.fail('the store opened'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StateFileError);
      expect((error as Error).message).to.include(join(dir, 'state.json')).and.to.include('cannot be read');
    });

    it('names the path it was given when decoding text', () => {
      expect(() => decodeState('{', PATH)).to.throw(StateFileError, PATH);
    });
  });
});
