// What a local attacker or a careless setup could abuse: file modes of
// the socket, the state dir and the state file whatever the umask; a socket never more open than
// configured, even while it is set up; service names outside the pattern refused everywhere;
// names that spell Object members kept as data; a planted temp-file symlink.
import { expect } from 'chai';
import { lstatSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callErr, callOk, daemonsPerTest, oneShot, TestDaemon } from '../support/daemon.js';

const mode = async (path: string) => (await lstat(path)).mode & 0o777;

describe('reliability: permissions and hostile names', function () {
  this.timeout(30_000);
  const start = daemonsPerTest();

  it('creates the socket 0660, its missing parent dir 0755, the state dir 0700 and the state file 0600, even under umask 000', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'epa-umask-'));
    const previous = process.umask(0);
    try {
      const d = await start({ config: { socket: join(dir, 'run', 'epa.sock'), stateDir: join(dir, 'lib', 'state') } });
      await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 1 });
      process.umask(previous);
      expect(await mode(d.socketPath)).to.equal(0o660);
      expect(await mode(join(dir, 'run'))).to.equal(0o755);
      expect(await mode(d.config.stateDir)).to.equal(0o700);
      expect(await mode(d.stateFile)).to.equal(0o600);
      expect(await mode(join(d.config.stateDir, 'state.lock'))).to.equal(0o600);
    } finally {
      process.umask(previous);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('applies a configured socket mode, and the socket is never open to others while it is set up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'epa-sockmode-'));
    const socket = join(dir, 'epa.sock');
    const seen = new Set<number>();
    let watching = true;
    const watch = (): void => {
      try {
        seen.add(lstatSync(socket).mode & 0o777);
      } catch {
        // not there yet
      }
      if (watching) setImmediate(watch);
    };
    watch();
    try {
      for (const socketMode of [0o600, 0o660]) {
        const d = await TestDaemon.start({ config: { socket, socketMode } });
        try {
          expect(await mode(socket)).to.equal(socketMode);
        } finally {
          await d.cleanup();
        }
      }
    } finally {
      watching = false;
      await rm(dir, { recursive: true, force: true });
    }
    expect([...seen].every((m) => (m & 0o007) === 0), `modes seen: ${[...seen].map((m) => m.toString(8)).join(', ')}`).to.equal(true);
    expect(seen.size, 'the watcher saw the socket').to.be.above(0);
  });

  it('refuses service names outside the pattern on every method and in the one-shot protocol, and records nothing', async () => {
    const d = await start();
    const client = await d.client();
    const names = ['', '-lead', '.hidden', '../../etc/passwd', 'a/b', 'a\u0000b', 'a b', 'svc\n', 'x'.repeat(129), 'é', '__proto__', '*', '$(reboot)'];
    const calls = (service_name: string): [string, Record<string, unknown>][] => [
      ['allocate_cores', { service_name, num_of_cores: 1 }],
      ['allocate_cores_percent', { service_name, percent: 10 }],
      ['allocate_numa_cores', { service_name, numa_node: 0, num_of_cores: 1 }],
      ['allocate_hugepages', { service_name, node_id: 0, size_kb: 2048, hugepages_requested: 1 }],
      ['release_service', { service_name }],
      ['get_memory_info', { service_name }],
    ];
    for (const name of names) {
      for (const [method, params] of calls(name)) {
        const error = await callErr(client, method, params);
        expect(error.code, `${method} ${JSON.stringify(name)}`).to.equal(-32602);
        expect((error.data as { errors: { path: string }[] }).errors.map((e) => e.path), `${method} ${JSON.stringify(name)}`).to.include('/service_name');
      }
      const legacy = await oneShot(d.socketPath, { version: '1.0', action: 'allocate_cores', service_name: name, num_of_cores: 1 });
      expect(legacy.error, JSON.stringify(name)).to.match(/^Invalid params/);
    }
    expect((await callOk(client, 'list_allocations')).allocations).to.deep.equal([]);
    expect(await readdir(d.config.stateDir), 'nothing was written').to.deep.equal(['state.lock']);
  });

  it('keeps service names that spell Object members as plain data, across a restart', async () => {
    const d = await start();
    const names = ['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'A9._@:+-x'];
    for (const [i, service_name] of names.entries()) {
      await d.call('allocate_cores', { service_name, num_of_cores: 1 });
      await d.call('allocate_hugepages', { service_name, node_id: i % 2, size_kb: 2048, hugepages_requested: i + 1 });
    }
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => a.service_name)).to.deep.equal([...names].sort());
    await d.restart();
    expect(await d.call('list_allocations')).to.deep.equal(listed);
    expect((await d.call('release_service', { service_name: 'constructor' })).released_hugepages).to.deep.equal([{ node_id: 0, size_kb: 2048, count: 1 }]);
  });

  it('does not follow a symlink planted at the temp file name: the write lands in the state dir only', async () => {
    const d = await start();
    const victim = join(d.dir, 'victim');
    await writeFile(victim, 'precious\n');
    await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 1 });
    await symlink(victim, join(d.config.stateDir, '.state.json.tmp'));
    await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 2 });
    expect(await readFile(victim, 'utf8')).to.equal('precious\n');
    expect((await lstat(d.stateFile)).isFile()).to.equal(true);
    expect(await mode(d.stateFile)).to.equal(0o600);
    expect((await readdir(d.config.stateDir)).sort()).to.deep.equal(['state.json', 'state.lock']);
    expect(await d.readState()).to.deep.include({ allocations_db: { allocations: { vm: '2,18' }, explicit_allocations: {} } });
  });
});
