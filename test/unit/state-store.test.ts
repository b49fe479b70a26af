// The durable ledger: a change is answered only once it is on disk, concurrent changes share
// writes, a failed write changes nothing, and one daemon at a time owns a state dir.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../schema/index.js';
import { Ledger } from '../../src/allocator/index.js';
import { LedgerStore, StateLockedError, WRITE_STEPS, decodeState, loadState, type LedgerStoreOptions } from '../../src/state/index.js';
import { FaultyWriter } from '../support/faulty-writer.js';
import { TempDirs, ledgerOf, plain, put, record } from './state-harness.js';

const dirs = new TempDirs();
const stores: LedgerStore[] = [];

async function openStore(dir: string, writer?: FaultyWriter, options: LedgerStoreOptions = {}): Promise<LedgerStore> {
  const store = await LedgerStore.open(dir, { ...options, ...(writer ? { writer } : {}) });
  stores.push(store);
  return store;
}

/** What a daemon started now would load. */
async function onDisk(dir: string): Promise<Ledger> {
  return loadState(join(dir, 'state.json'));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

function expectWriteFailed(error: unknown, detail: string, disk: 'unchanged' | 'uncertain' = 'unchanged'): void {
  expect(error).to.be.instanceOf(DomainError);
  const e = error as DomainError;
  expect(e.code).to.equal(-32010);
  expect(e.reason).to.equal('STATE_WRITE_FAILED');
  expect(e.data).to.deep.equal({ reason: 'STATE_WRITE_FAILED', disk_state: disk });
  expect(e.message).to.equal(
    disk === 'unchanged'
      ? `The change could not be saved (${detail}); nothing was changed`
      : `The change could not be saved (${detail}), and the state file may still hold it until it can be written again; changes are refused meanwhile`,
  );
}

describe('LedgerStore', () => {
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await dirs.cleanup();
  });

  describe('opening', () => {
    it('starts empty without a state file, creating the state dir with mode 0700', async () => {
      const dir = join(await dirs.make(), 'a', 'state');
      const store = await openStore(dir);
      expect(store.view()).to.equal(Ledger.EMPTY);
      expect((await stat(dir)).mode & 0o777).to.equal(0o700);
      expect(await readdir(dir)).to.deep.equal(['state.lock']);
    });

    it('loads the state file that is there', async () => {
      const dir = await dirs.make();
      const ledger = ledgerOf({ a: record('1-2', { explicit: '2' }) });
      const first = await openStore(dir);
      await first.update(() => ({ next: ledger, result: undefined }));
      await first.close();
      expect(plain((await openStore(dir)).view())).to.deep.equal(plain(ledger));
    });
  });

  describe('update', () => {
    it('answers once the change is in the file, written with mode 0600 and no temp file left', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      const result = await store.update(put('a', record('0-3')));
      expect(result).to.equal('a');
      expect(plain(store.view())).to.deep.equal(plain(ledgerOf({ a: record('0-3') })));
      expect(plain(await onDisk(dir))).to.deep.equal(plain(store.view()));
      expect((await stat(join(dir, 'state.json'))).mode & 0o777).to.equal(0o600);
      expect((await readdir(dir)).sort()).to.deep.equal(['state.json', 'state.lock']);
    });

    it('shows a change in view() only once it is durable', async () => {
      const writer = new FaultyWriter();
      const store = await openStore(await dirs.make(), writer);
      writer.hold();
      const done = store.update(put('a', record('1')));
      expect(writer.pending).to.equal(1);
      expect(store.view().get('a')).to.equal(undefined);
      writer.release();
      await done;
      expect(store.view().get('a')?.cpus.toString()).to.equal('1');
    });

    it('lands 50 concurrent changes, each planned on the one before, in fewer than 50 writes', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      const seen: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.update((current) => {
            seen.push(current.serviceCount);
            return put(`svc-${i}`, record(String(i)))(current);
          }),
        ),
      );
      expect(results).to.deep.equal(Array.from({ length: 50 }, (_, i) => `svc-${i}`));
      expect(seen).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
      expect(store.view().serviceCount).to.equal(50);
      expect(store.view().owned.toString()).to.equal('0-49');
      expect(store.writes).to.be.lessThan(50).and.greaterThan(0);
      expect(plain(await onDisk(dir))).to.deep.equal(plain(store.view()));
    });

    it('covers every change queued behind a write with one write', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer);
      writer.hold();
      const first = store.update(put('a', record('0')));
      const rest = ['b', 'c', 'd'].map((name, i) => store.update(put(name, record(String(i + 1)))));
      expect(writer.texts).to.have.length(1);
      writer.release();
      await Promise.all([first, ...rest]);
      expect(store.writes).to.equal(2);
      expect(writer.texts.map((text) => decodeState(text, 'x').serviceCount)).to.deep.equal([1, 4]);
    });

    it('rejects only the call whose plan throws', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      const a = store.update(put('a', record('0')));
      const bad = store.update(() => {
        throw new Error('no such thing');
      });
      const c = store.update(put('c', record('1')));
      expect(((await rejection(bad)) as Error).message).to.equal('no such thing');
      expect(await Promise.all([a, c])).to.deep.equal(['a', 'c']);
      expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0'), c: record('1') })));
    });

    it('answers a change that changes nothing without writing', async () => {
      const store = await openStore(await dirs.make());
      expect(await store.update((current) => ({ next: current, result: 7 }))).to.equal(7);
      expect(store.writes).to.equal(0);
    });

    it('refuses updates once closed', async () => {
      const store = await openStore(await dirs.make());
      await store.close();
      expect(((await rejection(store.update(put('a', record('0'))))) as Error).message).to.include('closed');
    });
  });

  describe('a failed write', () => {
    it('answers STATE_WRITE_FAILED and changes nothing; the next change after the fault succeeds', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer);
      await store.update(put('a', record('0-1')));
      const before = store.view();
      const fileBefore = await readFile(join(dir, 'state.json'));

      writer.failAt('write-temp', 'ENOSPC', 1);
      expectWriteFailed(await rejection(store.update(put('b', record('2-3')))), 'ENOSPC');
      expect(store.view()).to.equal(before);
      expect(await readFile(join(dir, 'state.json'))).to.deep.equal(fileBefore);

      await store.update(put('c', record('4')));
      expect(plain(store.view())).to.deep.equal(plain(ledgerOf({ a: record('0-1'), c: record('4') })));
      expect(plain(await onDisk(dir))).to.deep.equal(plain(store.view()));
    });

    it('rolls back the changes planned on top of it too, and nothing else', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer);
      await store.update(put('a', record('0')));
      writer.hold();
      writer.failAt('fsync-temp', 'EIO', 1);
      const inFlight = store.update(put('b', record('1')));
      const onTop = [store.update(put('c', record('2'))), store.update(put('b', record('1,3')))];
      writer.release();
      for (const p of [inFlight, ...onTop]) expectWriteFailed(await rejection(p), 'EIO');
      expect(plain(store.view())).to.deep.equal(plain(ledgerOf({ a: record('0') })));

      // Planned after the failure: based on the durable ledger, so b and c are gone.
      await store.update((current) => {
        expect(current.get('b')).to.equal(undefined);
        return put('d', record('4'))(current);
      });
      expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0'), d: record('4') })));
    });

    it('leaves no temp file when the real writer fails', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      // A non-empty directory where the file goes: the rename over it fails.
      await mkdir(join(dir, 'state.json', 'x'), { recursive: true });
      const error = await rejection(store.update(put('a', record('0'))));
      expect(error).to.be.instanceOf(DomainError);
      expect((error as DomainError).reason).to.equal('STATE_WRITE_FAILED');
      expect((await readdir(dir)).sort()).to.deep.equal(['state.json', 'state.lock']);
      expect(store.view()).to.equal(Ledger.EMPTY);
    });
  });

  describe('honest write failures (a fault at each step of the write)', () => {
    const beforeRename = WRITE_STEPS.slice(0, WRITE_STEPS.indexOf('rename') + 1);
    const afterRename = WRITE_STEPS.slice(WRITE_STEPS.indexOf('rename') + 1);

    for (const step of beforeRename) {
      it(`${step}: "nothing was changed", and the file is byte for byte as it was, with no temp file`, async () => {
        const writer = new FaultyWriter();
        const dir = await dirs.make();
        const store = await openStore(dir, writer);
        await store.update(put('a', record('0')));
        const bytes = await readFile(join(dir, 'state.json'));
        writer.failAt(step, 'EIO', 1);
        expectWriteFailed(await rejection(store.update(put('b', record('1')))), 'EIO');
        expect((await readFile(join(dir, 'state.json'))).equals(bytes)).to.equal(true);
        expect((await readdir(dir)).sort()).to.deep.equal(['state.json', 'state.lock']);
        expect(writer.texts, 'nothing was written again').to.have.length(2);
        expect(store.diskUncertain).to.equal(false);
      });
    }

    for (const step of afterRename) {
      it(`${step}: the last saved state is written again before the answer, which then says "nothing was changed"`, async () => {
        const writer = new FaultyWriter();
        const dir = await dirs.make();
        const store = await openStore(dir, writer);
        await store.update(put('a', record('0')));
        writer.failAt(step, 'EIO', 1);
        expectWriteFailed(await rejection(store.update(put('b', record('1')))), 'EIO');
        // Read as a daemon started after a crash right now would: the refused change is not there.
        expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0') })));
        expect(writer.texts, 'the change, then the last saved state again').to.have.length(3);
        expect(store.diskUncertain).to.equal(false);
      });

      it(`${step}, twice: says the file may hold the change, refuses changes while it cannot be written, and puts it right once it can`, async () => {
        const writer = new FaultyWriter();
        const dir = await dirs.make();
        const store = await openStore(dir, writer, { repairRetryMs: 60_000 });
        await store.update(put('a', record('0')));
        writer.failAt(step, 'EIO');
        expectWriteFailed(await rejection(store.update(put('b', record('1')))), 'EIO', 'uncertain');
        expect(store.diskUncertain).to.equal(true);
        expectWriteFailed(await rejection(store.update(put('c', record('2')))), 'EIO', 'uncertain');
        expect(plain(store.view()), 'reads still see the last saved state').to.deep.equal(plain(ledgerOf({ a: record('0') })));
        writer.clear();
        await store.update(put('d', record('3')));
        expect(store.diskUncertain).to.equal(false);
        expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0'), d: record('3') })));
      });
    }

    it('puts an uncertain file right in the background once the disk works again, with no change needed', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer, { repairRetryMs: 1 });
      await store.update(put('a', record('0')));
      writer.failAt('fsync-dir', 'EIO', 3);
      expectWriteFailed(await rejection(store.update(put('b', record('1')))), 'EIO', 'uncertain');
      await store.whenDiskCertain();
      expect(writer.failures, 'the change, the first repair, one retry failed; the next retry worked').to.equal(3);
      expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0') })));
    });
  });

  describe('close', () => {
    it('waits for pending writes, then releases the lock', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer);
      writer.hold();
      const pending = store.update(put('a', record('5')));
      const closed = store.close();
      writer.release();
      await closed;
      expect(await pending).to.equal('a');
      expect(await readdir(dir)).to.deep.equal(['state.json']);
      expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('5') })));
    });

    it('at stop, writes the last saved state again while the file is uncertain', async () => {
      const writer = new FaultyWriter();
      const dir = await dirs.make();
      const store = await openStore(dir, writer, { repairRetryMs: 60_000 });
      await store.update(put('a', record('0')));
      // The change's write and the first attempt to put the file back both fail after their rename.
      writer.failAt('fsync-dir', 'EIO', 2);
      expectWriteFailed(await rejection(store.update(put('b', record('9')))), 'EIO', 'uncertain');
      expect(store.diskUncertain).to.equal(true);
      await store.close();
      expect(plain(await onDisk(dir))).to.deep.equal(plain(ledgerOf({ a: record('0') })));
    });
  });

  describe('the lock', () => {
    it('refuses a second store on the same dir while the first is open, naming the dir and pid', async () => {
      const dir = await dirs.make();
      const first = await openStore(dir);
      const error = await rejection(LedgerStore.open(dir));
      expect(error).to.be.instanceOf(StateLockedError);
      expect((error as Error).message).to.include(dir).and.to.include(`pid ${process.pid}`);
      await first.close();
      await openStore(dir);
    });

    it('refuses a lock held by another live process', async () => {
      const dir = await dirs.make();
      const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
      await writeFile(join(dir, 'state.lock'), `${process.ppid}\n${bootId}\n`);
      const error = await rejection(LedgerStore.open(dir));
      expect(error).to.be.instanceOf(StateLockedError);
      expect((error as StateLockedError).pid).to.equal(process.ppid);
      expect(await readFile(join(dir, 'state.lock'), 'utf8')).to.equal(`${process.ppid}\n${bootId}\n`);
    });

    it('takes over a lock whose process is gone', async () => {
      const dir = await dirs.make();
      const { pid } = spawnSync(process.execPath, ['-e', '']);
      await writeFile(join(dir, 'state.lock'), `${pid}\n`);
      const store = await openStore(dir);
      expect((await readFile(join(dir, 'state.lock'), 'utf8')).split('\n')[0]).to.equal(String(process.pid));
      await store.close();
      expect(await readdir(dir)).to.deep.equal([]);
    });

    it('takes over a lock from a previous boot, or one that holds no pid', async () => {
      const dir = await dirs.make();
      for (const content of [`${process.ppid}\nan-earlier-boot\n`, '', 'garbage\n']) {
        await writeFile(join(dir, 'state.lock'), content);
        const store = await openStore(dir);
        await store.close();
      }
    });
  });
});
