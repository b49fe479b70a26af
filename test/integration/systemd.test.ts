// Running under systemd: log lines carry their syslog priority when journald reads
// them, so `journalctl -p warning` filters; the daemon serves the socket systemd hands it (socket
// activation, tried with Debian's systemd-socket-activate); and the units pass systemd-analyze.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpaClient, openUnixSocket } from '../../src/client/index.js';
import { tempSysfs, type TempSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { BIN, REPO_ROOT, Started, startCli } from '../support/process.js';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

describe('systemd: journald, socket activation, the units', function () {
  this.timeout(30_000);
  let dir: string;
  let sysfs: TempSysfs;
  let runs = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-systemd-'));
    sysfs = tempSysfs(SAMPLE);
  });
  after(async () => {
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * serve's log: a general pool that overlaps the isolated one (an error), the start (info), a
   * message over the size limit (a warning), the connections (debug).
   */
  async function logsOf(env: Record<string, string | undefined>, ...flags: string[]): Promise<string[]> {
    const run = ++runs;
    const socket = join(dir, `log-${run}.sock`);
    const daemon = startCli(
      ['serve', '--socket', socket, '--state-dir', join(dir, `log-${run}`), '--sysfs', sysfs.path, '--general-pool', '0-3', '--max-message-bytes', '64', ...flags],
      { env },
    );
    await daemon.saysOnStderr(/serving on /);
    const client = await openUnixSocket(socket);
    client.end(`"${'x'.repeat(100)}"\n`);
    await daemon.saysOnStderr(/message over the size limit/);
    const exit = await daemon.stop();
    expect(exit.code, exit.stderr).to.equal(0);
    return exit.stderr.trimEnd().split('\n');
  }

  describe('journald', () => {
    it('with JOURNAL_STREAM set, every line starts with its priority: <3> error, <4> warning, <6> info, <7> debug', async () => {
      const lines = await logsOf({ JOURNAL_STREAM: '8:12345' }, '--log-level', 'debug');
      for (const line of lines) expect(line).to.match(/^<[3467]>/);
      expect(lines.find((line) => line.includes('hands out no CPU'))).to.match(/^<3>\S+ error pool general hands out no CPU/);
      expect(lines.find((line) => line.includes('serving on'))).to.match(/^<6>\S+ info serving on /);
      expect(lines.find((line) => line.includes('over the size limit'))).to.match(/^<4>\S+ warn message over the size limit/);
      expect(lines.some((line) => line.startsWith('<7>')), 'debug lines').to.equal(true);
    });

    it('--log-format journal prefixes the priority without JOURNAL_STREAM, and leaves the time to journald', async () => {
      const lines = await logsOf({ JOURNAL_STREAM: undefined }, '--log-format', 'journal');
      expect(lines.find((line) => line.includes('serving on'))).to.match(/^<6>info serving on /);
      expect(lines.find((line) => line.includes('hands out no CPU'))).to.match(/^<3>error pool general/);
    });

    it('JSON lines get the prefix too under journald, and no line gets one on a terminal', async () => {
      const json = await logsOf({ JOURNAL_STREAM: '8:12345' }, '--log-format', 'json');
      const serving = json.find((line) => line.includes('serving on'))!;
      expect(serving).to.match(/^<6>\{/);
      expect(JSON.parse(serving.slice(3))).to.include({ level: 'info' });
      const plain = await logsOf({ JOURNAL_STREAM: undefined });
      for (const line of plain) expect(line).to.not.match(/^</);
    });
  });

  describe('socket activation', () => {
    it('serves the socket systemd-socket-activate passes, and leaves the file to it', async function () {
      if (!has('systemd-socket-activate')) this.skip();
      const socket = join(dir, 'activated.sock');
      const activator = new Started('systemd-socket-activate', [
        '--listen',
        socket,
        process.execPath,
        BIN,
        'serve',
        '--socket',
        socket,
        '--state-dir',
        join(dir, 'activated'),
        '--sysfs',
        sysfs.path,
      ]);
      try {
        await activator.saysOnStderr(/Listening on /);
        // The first connection starts the daemon, which takes the socket over: nothing is lost.
        const client = await EpaClient.connect(socket);
        expect(await client.allocate_cores({ service_name: 'nova', num_of_cores: 2 })).to.include({ allocated_cores: '2,18' });
        client.close();
        expect(activator.stderr).to.contain('listening on the socket systemd passed');
        const exit = await activator.stop();
        expect(exit.code, exit.stderr).to.equal(0);
        expect(JSON.parse(await readFile(join(dir, 'activated', 'state.json'), 'utf8'))).to.nested.include({ 'allocations_db.allocations.nova': '2,18' });
      } finally {
        await activator.stop('SIGKILL');
      }
    });
  });

  describe('the units', () => {
    let units: string;
    before(async function () {
      if (!has('systemd-analyze')) {
        process.stdout.write('      (systemd-analyze is missing: install Debian\'s systemd package to check the units)\n');
        this.skip();
      }
      units = await mkdtemp(join(dir, 'units-'));
      // As `make install` writes them: the command where the unit runs it from.
      const service = await readFile(join(REPO_ROOT, 'packaging/epa-orchestrator.service'), 'utf8');
      expect(service).to.contain('ExecStart=/usr/bin/epa-orchestrator serve ');
      await writeFile(join(units, 'epa-orchestrator.service'), service.replaceAll('/usr/bin/epa-orchestrator', BIN));
      await writeFile(join(units, 'epa-orchestrator.socket'), await readFile(join(REPO_ROOT, 'packaging/epa-orchestrator.socket'), 'utf8'));
    });

    it('systemd-analyze verify finds nothing to say', () => {
      const result = spawnSync('systemd-analyze', ['verify', 'epa-orchestrator.socket', 'epa-orchestrator.service'], { cwd: units, encoding: 'utf8' });
      expect([result.status, result.stdout + result.stderr]).to.deep.equal([0, '']);
    });

    it('systemd-analyze security rates the service 2.0 or lower', () => {
      const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', 'epa-orchestrator.service'], { cwd: units, encoding: 'utf8' });
      const level = /Overall exposure level for epa-orchestrator\.service: (\d+\.\d+)/.exec(result.stdout)?.[1];
      expect(level, result.stdout + result.stderr).to.not.equal(undefined);
      expect(Number(level)).to.be.at.most(2.0);
    });
  });
});
