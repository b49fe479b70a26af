// A state file the daemon cannot trust (docs/architecture.md): `serve` refuses to start, names the file
// on stderr, exits non-zero, and leaves the file byte for byte, the state dir without a lock, and
// no socket. The children start in parallel: each costs a module load, not a round trip.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { StateFileError } from '../../src/state/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon } from '../support/child-daemon.js';
import { DaemonDirs } from '../support/daemon.js';

const VALID = JSON.stringify({
  version: 1,
  updated_at: '2026-01-01T00:00:00.000Z',
  allocations_db: { allocations: { nova: '2-5', ovs: '8-9' }, explicit_allocations: { ovs: '8-9' } },
  hugepages_db: { allocations: { nova: [{ node_id: 0, size_kb: 2048, count: 8 }] } },
});

/** Each kind of bad file the brief names, as `serve` must see it. */
const SERVED: Record<string, string | Buffer> = {
  empty: '',
  truncated: VALID.slice(0, Math.floor(VALID.length / 2)),
  'not JSON': 'allocations: nova=2-5\n',
  'the wrong shape': JSON.stringify({ version: 1, allocations_db: { allocations: [['nova', '2-5']] } }),
  'CPUs as garbage': JSON.stringify({ version: 1, allocations_db: { allocations: { nova: '2-5,banana' } } }),
};

/** More bad files, checked in-process (the same start path, without a process each). */
const IN_PROCESS: Record<string, string | Buffer> = {
  'invalid UTF-8': Buffer.concat([Buffer.from('{"version":1,"allocations_db":{"allocations":{"nova":"2-5'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}}')]),
  'a reversed CPU range': JSON.stringify({ version: 1, allocations_db: { allocations: { nova: '5-2' } } }),
  'a CPU with two owners': JSON.stringify({ version: 1, allocations_db: { allocations: { nova: '2-5', ovs: '5-6' } } }),
  'explicit CPUs not held': JSON.stringify({ version: 1, allocations_db: { allocations: { nova: '2-5' }, explicit_allocations: { nova: '6' } } }),
  'an unknown version': VALID.replace('"version":1', '"version":2'),
  'a negative hugepage count': JSON.stringify({ version: 1, hugepages_db: { allocations: { nova: [{ node_id: 0, size_kb: 2048, count: -3 }] } } }),
  'a JSON array': '[]',
  'NUL bytes': Buffer.alloc(64),
};

describe('reliability: serve refuses a state file it cannot trust', function () {
  this.timeout(60_000);
  let made: DaemonDirs[] = [];

  after(async () => {
    await Promise.all(made.map((dirs) => dirs.cleanup()));
    made = [];
  });

  /** Dirs of their own, whose state dir holds content as state.json. */
  async function caseDirs(content: string | Buffer): Promise<DaemonDirs> {
    const dirs = await DaemonDirs.create(SAMPLE);
    made.push(dirs);
    await mkdir(dirs.stateDir, { recursive: true });
    await writeFile(dirs.stateFile, content);
    return dirs;
  }

  async function expectUntouched(dirs: DaemonDirs, content: string | Buffer): Promise<void> {
    expect((await readFile(dirs.stateFile)).equals(Buffer.from(content)), 'the file is byte for byte as it was').to.equal(true);
    expect(await readdir(dirs.stateDir), 'no lock, no temp file left').to.deep.equal(['state.json']);
    expect(existsSync(dirs.socket), 'no socket').to.equal(false);
  }

  it(`exits non-zero naming the file for each of: ${Object.keys(SERVED).join(', ')}`, async () => {
    const cases = await Promise.all(Object.entries(SERVED).map(async ([name, content]) => ({ name, content, dirs: await caseDirs(content) })));
    const runs = cases.map((c) => ChildDaemon.start(c.dirs.serveArgs()));
    const exits = await Promise.all(runs.map((run) => run.exited));
    for (const [i, c] of cases.entries()) {
      const { stderr } = runs[i]!;
      expect({ code: exits[i]!.code, signal: exits[i]!.signal }, `${c.name}: ${stderr}`).to.deep.equal({ code: 1, signal: null });
      expect(stderr, c.name).to.contain(c.dirs.stateFile);
      expect(stderr, `${c.name}: no stack trace`).not.to.match(/^\s+at /m);
      await expectUntouched(c.dirs, c.content);
    }
  });

  for (const [name, content] of Object.entries(IN_PROCESS)) {
    it(`refuses ${name}, naming the file and leaving it as it is`, async () => {
      const dirs = await caseDirs(content);
      const error = await startDaemon(dirs.config(), silentLogger()).then(
        async (daemon) => {
          await daemon.stop();
          return expect.fail('the daemon started');
        },
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StateFileError);
      expect((error as Error).message).to.contain(dirs.stateFile);
      await expectUntouched(dirs, content);
    });
  }
});
