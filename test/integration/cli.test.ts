import { expect } from 'chai';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_HOST, tempSysfs, type TempSysfs } from '../../src/topology/fake/index.js';
import { ChildDaemon } from '../support/child-daemon.js';
import { DaemonDirs } from '../support/daemon.js';
import { REPO_ROOT, Started, runCli, startCli, type Exit } from '../support/process.js';

/** Starts the built program. */
const start = (...args: string[]): Started => startCli(args);

/** Runs the built program to its end. */
const run = (...args: string[]): Promise<Exit> => runCli(args);

const noStackTrace = (text: string) => expect(text).to.not.match(/^\s+at /m);

describe('cli (the built bin/epa-orchestrator)', function () {
  this.timeout(30_000);
  let dir: string;
  let sysfs: TempSysfs;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-cli-'));
    sysfs = tempSysfs(SAMPLE_HOST);
  });

  after(async () => {
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  describe('against a running daemon', () => {
    let daemon: Started;
    let socket: string;

    before(async () => {
      socket = join(dir, 'epa.sock');
      // The sample host keeps cores 0 and 1 out of the isolated pool: they make the general pool.
      daemon = start('serve', '--socket', socket, '--state-dir', join(dir, 'state'), '--sysfs', sysfs.path, '--general-pool', '0-1,16-17');
      await daemon.saysOnStderr(/serving on /);
    });

    after(() => {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    });

    it('takes --socket before the command as well as after it', async () => {
      const before = await run('--socket', socket, 'call', 'get_topology');
      expect(before.code, before.stderr).to.equal(0);
      expect(JSON.parse(before.stdout)).to.include({ pool: '2-15,18-31' });
      const status = await run('--socket', socket, 'status');
      expect(status.code, status.stderr).to.equal(0);
      // Given after the command too, that one wins.
      const both = await run('--socket', join(dir, 'elsewhere.sock'), 'topology', '--socket', socket);
      expect(both.code, both.stderr).to.equal(0);
      const wrongAfter = await run('--socket', socket, 'topology', '--socket', join(dir, 'elsewhere.sock'));
      expect(wrongAfter.code).to.equal(3);
    });

    it('call METHOD - reads the params from standard input', async () => {
      const result = await runCli(['call', 'allocate_cores', '-', '--socket', socket], { stdin: '{"service_name":"stdin-svc","num_of_cores":1}\n' });
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.include({ service_name: 'stdin-svc', cores_allocated: 1 });
      const refused = await runCli(['call', 'allocate_cores', '-', '--socket', socket], { stdin: '[1, 2]' });
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.contain('params on standard input');
      await run('call', 'release_service', '{"service_name":"stdin-svc"}', '--socket', socket);
    });

    it('call prints the result as JSON on stdout', async () => {
      const result = await run('call', 'allocate_cores', '{"service_name":"nova","num_of_cores":4}', '--socket', socket);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.include({ service_name: 'nova', allocated_cores: '2-3,18-19', cores_allocated: 4 });
      expect(result.stderr).to.equal('');
    });

    it('call of a refused request exits 1 with the code, message and data on stderr', async () => {
      const result = await run('call', 'allocate_cores', '{"service_name":"glance","num_of_cores":25}', '--socket', socket);
      expect(result.code).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.contain('error -32002: Insufficient CPUs available. Requested: 25, Available: 24');
      expect(result.stderr).to.contain('"reason": "INSUFFICIENT_CPUS"');
    });

    it('status --json prints the raw results of every pool; status prints the tables', async () => {
      const ceph = await run('call', 'allocate_cores', '{"service_name":"ceph","num_of_cores":2,"pool":"general"}', '--socket', socket);
      expect(ceph.code, ceph.stderr).to.equal(0);
      const json = await run('status', '--json', '--socket', socket);
      expect(json.code, json.stderr).to.equal(0);
      type List = { allocations: { service_name: string; allocated_cores: string }[] };
      const parsed = JSON.parse(json.stdout) as { list_allocations: Record<string, List>; get_topology: { pool: string } };
      expect(Object.keys(parsed.list_allocations)).to.deep.equal(['isolated', 'general']);
      expect(parsed.list_allocations.isolated!.allocations.map((a) => [a.service_name, a.allocated_cores])).to.deep.equal([
        ['nova', '2-3,18-19'],
      ]);
      expect(parsed.list_allocations.general!.allocations.map((a) => a.service_name)).to.deep.equal(['ceph']);
      expect(parsed.get_topology.pool).to.equal('2-15,18-31');
      const tables = await run('status', '--socket', socket);
      expect(tables.stdout).to.match(/^Pool general: 0-1,16-17 \(configured\), 4 CPUs eligible, 2 allocated, 2 free, 0 unavailable, 1 service$/m);
      expect(tables.stdout).to.match(/^0 +2-7,18-23 \(12\) +4-7,20-23 \(8\) +ceph +\S+ \(2\)$/m);
      expect(tables.stdout).to.match(/^nova +isolated +legacy +prefer +2-3,18-19 \(4\) /m);
      const general = await run('status', '--pool', 'general', '--socket', socket);
      expect(general.code, general.stderr).to.equal(0);
      expect(general.stdout).to.match(/^Pool general: 0-1,16-17 \(configured\), 4 CPUs eligible, 2 allocated, 2 free, 0 unavailable, 1 service$/m);
      expect(general.stdout).to.not.match(/^Pool isolated/m);
      expect(general.stdout).to.not.match(/^nova /m);
      const unknown = await run('status', '--pool', 'shared', '--socket', socket);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('POOL_NOT_FOUND');
    });

    it('a second serve on the same socket exits 1 with one line naming the socket, and leaves it alone', async () => {
      const result = await run('serve', '--socket', socket, '--state-dir', join(dir, 'other-state'), '--sysfs', sysfs.path);
      expect(result.code).to.equal(1);
      expect(result.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(result.stderr).to.contain(socket).and.to.contain('in use');
      noStackTrace(result.stderr);
      const still = await run('call', 'list_allocations', '--socket', socket);
      expect(JSON.parse(still.stdout)).to.nested.include({ 'allocations[0].service_name': 'nova' });
    });

    it('SIGHUP with a broken sysfs file: pools hand out nothing, listings and releases work, a SIGHUP after the fix heals', async () => {
      const cpulist = join(sysfs.path, 'devices/system/node/node1/cpulist');
      const good = await readFile(cpulist, 'utf8');
      await writeFile(cpulist, 'junk\n');
      try {
        daemon.child.kill('SIGHUP');
        await daemon.saysOnStderr(/hands out no CPU/);
      } finally {
        await writeFile(cpulist, good);
      }
      expect(daemon.stderr).to.match(/ error pool isolated hands out no CPU until this is fixed \(then SIGHUP\): .*node1\/cpulist: invalid cpulist "junk"/);
      const listed = JSON.parse((await run('call', 'list_allocations', '--socket', socket)).stdout) as { cpu_pool: { unavailable_reason: string } };
      expect(listed.cpu_pool.unavailable_reason).to.match(/node1\/cpulist: invalid cpulist "junk"/);
      const refused = await run('call', 'allocate_cores', '{"service_name":"late","num_of_cores":1}', '--socket', socket);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.contain('error -32001: No CPUs available').and.to.contain('unavailable_reason');
      const said = daemon.stderr.length;
      daemon.child.kill('SIGHUP');
      await daemon.saysOnStderr(/topology reloaded/, said);
      const healed = JSON.parse((await run('call', 'list_allocations', '--socket', socket)).stdout) as { cpu_pool: { unavailable_reason: unknown } };
      expect(healed.cpu_pool.unavailable_reason).to.equal(null);
    });

    it('SIGTERM stops the daemon: exit 0 and the socket file removed', async () => {
      daemon.child.kill('SIGTERM');
      const exit = await daemon.exited;
      expect(exit.code, exit.stderr).to.equal(0);
      expect(existsSync(socket)).to.equal(false);
    });
  });

  describe('a stop while starting', () => {
    it('SIGTERM that comes while the daemon is starting ends in an orderly exit 0: no lock, no socket left', async () => {
      const dirs = await DaemonDirs.create(SAMPLE_HOST);
      try {
        await mkdir(dirs.stateDir, { mode: 0o700 });
        // A FIFO for the isolated file holds the start inside the topology read, after the lock
        // is taken and before the socket is bound, until the test writes to it.
        const isolated = join(dirs.sysfs, 'devices/system/cpu/isolated');
        const content = await readFile(isolated, 'utf8');
        await rm(isolated);
        await new Started('mkfifo', [isolated]).exited;
        const locked = new Promise<void>((resolve) => {
          const watcher = watch(dirs.stateDir, (_event, name) => {
            if (name !== 'state.lock') return;
            watcher.close();
            resolve();
          });
        });
        const daemon = ChildDaemon.start(dirs.serveArgs());
        await locked;
        daemon.signal('SIGTERM');
        await writeFile(isolated, content);
        const exit = await daemon.exited;
        expect(exit, daemon.stderr).to.deep.equal({ code: 0, signal: null, stdout: '', stderr: daemon.stderr });
        expect(daemon.stderr).to.match(/ SIGTERM[: ]/);
        expect(existsSync(join(dirs.stateDir, 'state.lock')), 'lock left behind').to.equal(false);
        expect(existsSync(dirs.socket), 'socket left behind').to.equal(false);
      } finally {
        await dirs.cleanup();
      }
    });
  });

  describe('start failures', () => {
    it('refuses an invalid state file in one line naming it, and leaves the file as it was', async () => {
      const stateDir = join(dir, 'bad-state');
      await mkdir(stateDir);
      await writeFile(join(stateDir, 'state.json'), '{"version":1,');
      const result = await run('serve', '--socket', join(dir, 'bad.sock'), '--state-dir', stateDir, '--sysfs', sysfs.path);
      expect(result.code).to.equal(1);
      expect(result.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(result.stderr).to.match(/^epa-orchestrator: cannot start: /).and.to.contain(join(stateDir, 'state.json'));
      noStackTrace(result.stderr);
      expect(await readFile(join(stateDir, 'state.json'), 'utf8')).to.equal('{"version":1,');
      expect(existsSync(join(dir, 'bad.sock'))).to.equal(false);
    });

    it('serves with no CPU to hand out when the sysfs root is not a directory, and says why', async () => {
      const missing = join(dir, 'no-such-sysfs');
      const socket = join(dir, 'x.sock');
      const daemon = start('serve', '--socket', socket, '--state-dir', join(dir, 'x'), '--sysfs', missing);
      try {
        await daemon.saysOnStderr(/serving on /);
        const listed = JSON.parse((await run('call', 'list_allocations', '--socket', socket)).stdout) as { cpu_pool: { unavailable_reason: string } };
        expect(listed.cpu_pool.unavailable_reason).to.equal(`the sysfs root ${missing} is not a directory`);
        expect(daemon.stderr).to.contain(`error pool isolated hands out no CPU until this is fixed (then SIGHUP): the sysfs root ${missing} is not a directory`);
      } finally {
        daemon.child.kill('SIGTERM');
        await daemon.exited;
      }
    });
  });

  describe('without a daemon', () => {
    it('call says there is no socket and exits 3', async () => {
      const socket = join(dir, 'absent.sock');
      const result = await run('call', 'list_allocations', '--socket', socket);
      expect(result.code).to.equal(3);
      expect(result.stderr).to.match(new RegExp(`^epa-orchestrator: no daemon socket at ${socket}: is the daemon running\\?`));
    });

    it('call says nothing answers on a left-over socket and exits 3', async () => {
      const socket = join(dir, 'stale.sock');
      // A process that dies while listening leaves its socket file behind.
      await new Started(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]).exited;
      expect(existsSync(socket)).to.equal(true);
      const result = await run('call', 'list_allocations', '--socket', socket);
      expect(result.code).to.equal(3);
      expect(result.stderr).to.contain(`nothing answers on ${socket}`);
    });

    it('call with params that are not a JSON object is a usage error (exit 2)', async () => {
      const result = await run('call', 'allocate_cores', '{service_name: nova}', '--socket', join(dir, 'absent.sock'));
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain("argument 'JSON-PARAMS'").and.to.contain('not valid JSON');
    });

    it('--version prints the version of package.json', async () => {
      const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      expect((await run('--version')).stdout).to.equal(`${pkg.version}\n`);
    });
  });

  it('demo prints call lines that work when pasted, and Ctrl-C removes its temp dir', async () => {
    const demo = start('demo');
    try {
      await demo.saysOnStdout(/Ctrl-C/);
      const line = demo.stdout.split('\n').find((l) => l.startsWith('  ./bin/epa-orchestrator call allocate_cores '));
      expect(line, demo.stdout).to.be.a('string');
      const pasted = await new Started('bash', ['-c', line!]).exited;
      expect(pasted.code, pasted.stderr).to.equal(0);
      expect(JSON.parse(pasted.stdout)).to.include({ allocated_cores: '2-3,18-19' });
      const tempDir = /removes (\S+)\.$/m.exec(demo.stdout)?.[1];
      expect(tempDir).to.be.a('string');
      expect(existsSync(tempDir!)).to.equal(true);
      demo.child.kill('SIGINT');
      const exit = await demo.exited;
      expect(exit.code).to.equal(0);
      expect(existsSync(tempDir!)).to.equal(false);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  });
});
