// The operator commands of the built CLI against a real daemon: `watch` (allocation_changed
// notifications as lines), `nova-config` (nova.conf options) and the figures `status` starts with;
// and the typed client's notification API they rest on.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpaClient, type AllocationChangedParams } from '../../src/client/index.js';
import { daemonsPerTest, type TestDaemon } from '../support/daemon.js';
import { runCli, startCli, type Started } from '../support/process.js';

/** An ISO time, the service, pool and cause, then the CPUs and hugepages before → after. */
const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
const READY = /^watching .+ \(Ctrl-C to stop\)\n/m;

/** Matches one whole human watch line, whatever its time. */
function watchLine(rest: string): RegExp {
  return new RegExp(`^${TIME} ${rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
}

/** Starts `watch` against the daemon and waits until it says it is subscribed. */
async function watching(d: TestDaemon, ...flags: string[]): Promise<Started> {
  const watch = startCli(['watch', ...flags, '--socket', d.socketPath]);
  await watch.saysOnStderr(READY);
  return watch;
}

/** The sample host with an OVS-DPDK-like reservation: 64 × 2 MiB on node 0, 2 × 1 GiB on node 1. */
async function withOvs(d: TestDaemon): Promise<void> {
  await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 1, num_of_cores: 2 });
  await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 });
  await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 1, size_kb: 1048576, hugepages_requested: 2 });
}

describe('cli operator commands (the built bin/epa-orchestrator against a daemon)', function () {
  this.timeout(30_000);
  const start = daemonsPerTest();
  const started: Started[] = [];
  const track = (process: Started): Started => {
    started.push(process);
    return process;
  };

  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  });

  describe('watch', () => {
    it('prints a line per change made by another client, the preempted service with cause "preempted", and exits 0 on SIGINT', async () => {
      const d = await start();
      const watch = track(await watching(d));
      await d.call('allocate_cores', { service_name: 'svc-a', num_of_cores: 4 });
      await watch.saysOnStdout(watchLine('svc-a isolated request: cpus none → 2-3,18-19; hugepages none → none'));
      // Node 0's 12 pool CPUs: svc-b's NUMA request takes svc-a's automatic ones.
      const numa = await d.call('allocate_numa_cores', { service_name: 'svc-b', numa_node: 0, num_of_cores: 12 });
      expect(numa.preempted).to.deep.equal([{ service_name: 'svc-a', cores: '2-3,18-19' }]);
      await watch.saysOnStdout(watchLine('svc-a isolated preempted: cpus 2-3,18-19 → none; hugepages none → none'));
      await watch.saysOnStdout(watchLine('svc-b isolated request: cpus none → 2-7,18-23; hugepages none → none'));
      await d.call('allocate_hugepages', { service_name: 'svc-b', node_id: 0, size_kb: 2048, hugepages_requested: 64 });
      await watch.saysOnStdout(watchLine('svc-b isolated request: cpus 2-7,18-23 → 2-7,18-23; hugepages none → node0 2048kB×64'));
      await d.call('allocate_hugepages', { service_name: 'svc-b', node_id: 1, size_kb: 1048576, hugepages_requested: 2 });
      await d.call('release_service', { service_name: 'svc-b' });
      await watch.saysOnStdout(
        watchLine('svc-b isolated released: cpus 2-7,18-23 → none; hugepages node0 2048kB×64, node1 1048576kB×2 → none'),
      );
      const exit = await watch.stop('SIGINT');
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout.split('\n')).to.have.length(7); // six lines, each ending in a newline
      expect(exit.stdout.split('\n').slice(0, -1).every((line) => new RegExp(`^${TIME} `).test(line))).to.equal(true);
      expect(exit.stderr).to.equal(`watching ${d.socketPath} (Ctrl-C to stop)\n`);
    });

    it('--json prints each allocation_changed params object as it came, one per line, and exits 0 on SIGTERM', async () => {
      const d = await start();
      const watch = track(await watching(d, '--json'));
      await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 });
      await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 });
      await d.call('release_service', { service_name: 'nova' });
      await watch.saysOnStdout(/"cause":"released"\}\n/);
      const exit = await watch.stop('SIGTERM');
      expect(exit.code, exit.stderr).to.equal(0);
      const changes = exit.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as AllocationChangedParams);
      expect(changes).to.deep.equal([
        {
          service_name: 'nova',
          pool: 'isolated',
          cores_before: '',
          cores_after: '2,18',
          hugepages_before: [],
          hugepages_after: [],
          cause: 'request',
        },
        {
          service_name: 'ovs',
          pool: 'isolated',
          cores_before: '',
          cores_after: '',
          hugepages_before: [],
          hugepages_after: [{ node_id: 0, size_kb: 2048, count: 64 }],
          cause: 'request',
        },
        {
          service_name: 'nova',
          pool: 'isolated',
          cores_before: '2,18',
          cores_after: '',
          hugepages_before: [],
          hugepages_after: [],
          cause: 'released',
        },
      ]);
    });

    it('exits 1 with a message on stderr when the daemon stops', async () => {
      const d = await start();
      const watch = track(await watching(d));
      await d.stop();
      const exit = await watch.exited;
      expect(exit.code).to.equal(1);
      expect(exit.stdout).to.equal('');
      expect(exit.stderr).to.contain(`epa-orchestrator: lost the connection to ${d.socketPath}: connection closed by the daemon\n`);
      expect(exit.stderr).to.not.match(/^\s+at /m);
    });

    it('exits 3 when no daemon answers', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'epa-watch-'));
      try {
        const socket = join(dir, 'absent.sock');
        const exit = await runCli(['watch', '--socket', socket]);
        expect(exit.code).to.equal(3);
        expect(exit.stderr).to.match(new RegExp(`^epa-orchestrator: no daemon socket at ${socket}: is the daemon running\\?`));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('nova-config', () => {
    it('prints nova.conf lines: the service CPUs, the free CPUs, and every other service\'s hugepages as one line each', async () => {
      const d = await start();
      await withOvs(d);
      await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 4 });
      // Nova's own reservation is not something it must keep from its guests.
      await d.call('allocate_hugepages', { service_name: 'nova', node_id: 0, size_kb: 2048, hugepages_requested: 16 });
      const exit = await runCli(['nova-config', '--service', 'nova', '--socket', d.socketPath]);
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stderr).to.equal('');
      expect(exit.stdout).to.equal(
        [
          '[compute]',
          'cpu_dedicated_set = 2-3,18-19',
          'cpu_shared_set = 4-7,9-15,20-23,25-31',
          '',
          '[DEFAULT]',
          'reserved_huge_pages = node:0,size:2048,count:64',
          'reserved_huge_pages = node:1,size:1048576,count:2',
          '',
        ].join('\n'),
      );
      const json = await runCli(['--socket', d.socketPath, 'nova-config', '--service', 'nova', '--json']);
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.equal({
        service_name: 'nova',
        cpu_dedicated_set: '2-3,18-19',
        cpu_shared_set: '4-7,9-15,20-23,25-31',
        reserved_huge_pages: ['node:0,size:2048,count:64', 'node:1,size:1048576,count:2'],
      });
    });

    it('writes a comment instead of an option that has nothing to set', async () => {
      const d = await start();
      await withOvs(d);
      const nothing = await runCli(['nova-config', '--service', 'nova', '--socket', d.socketPath]);
      expect(nothing.code, nothing.stderr).to.equal(0);
      expect(nothing.stdout).to.equal(
        [
          '[compute]',
          '# cpu_dedicated_set: nova holds no CPUs of the pool isolated',
          'cpu_shared_set = 2-7,9-15,18-23,25-31',
          '',
          '[DEFAULT]',
          'reserved_huge_pages = node:0,size:2048,count:64',
          'reserved_huge_pages = node:1,size:1048576,count:2',
          '',
        ].join('\n'),
      );
      // ovs: its own pages are not another service's; everything else is taken.
      await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 26 });
      const ovs = await runCli(['nova-config', '--service', 'ovs', '--socket', d.socketPath]);
      expect(ovs.code, ovs.stderr).to.equal(0);
      expect(ovs.stdout).to.equal(
        [
          '[compute]',
          'cpu_dedicated_set = 8,24',
          '# cpu_shared_set: no CPU of the pool isolated is left free',
          '',
          '[DEFAULT]',
          '# reserved_huge_pages: no other service reserves hugepages',
          '',
        ].join('\n'),
      );
    });

    it('names the pool asked for; an unknown pool is an error answer (exit 1), no --service a usage error (exit 2)', async () => {
      const d = await start({ config: { generalPool: '0-1,16-17' } });
      await d.call('allocate_cores', { service_name: 'mon', num_of_cores: 2, pool: 'general' });
      const general = await runCli(['nova-config', '--service', 'mon', '--pool', 'general', '--socket', d.socketPath]);
      expect(general.code, general.stderr).to.equal(0);
      expect(general.stdout).to.equal(
        [
          '[compute]',
          'cpu_dedicated_set = 0,16',
          'cpu_shared_set = 1,17',
          '',
          '[DEFAULT]',
          '# reserved_huge_pages: no other service reserves hugepages',
          '',
        ].join('\n'),
      );
      const unknown = await runCli(['nova-config', '--service', 'mon', '--pool', 'shared', '--socket', d.socketPath]);
      expect(unknown.code).to.equal(1);
      expect(unknown.stdout).to.equal('');
      expect(unknown.stderr).to.contain('POOL_NOT_FOUND');
      const usage = await runCli(['nova-config', '--socket', d.socketPath]);
      expect(usage.code).to.equal(2);
      expect(usage.stderr).to.contain("required option '--service <name>' not specified");
    });
  });

  describe('status', () => {
    it('starts with each pool\'s figures and each node\'s hugepages reserved against the kernel\'s counters', async () => {
      const d = await start({ config: { generalPool: '0-1,16-17' } });
      await withOvs(d);
      await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 4 });
      const exit = await runCli(['status', '--socket', d.socketPath]);
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout.split('\n').slice(0, 8)).to.deep.equal([
        'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 6 allocated, 22 free, 0 unavailable, 2 services',
        'Pool general: 0-1,16-17 (configured), 4 CPUs eligible, 0 allocated, 4 free, 0 unavailable, 0 services',
        'node0 2048 kB: 64 reserved, 512 free in the kernel, 512 total; 448 can still be reserved',
        'node0 1048576 kB: 0 reserved, 4 free in the kernel, 4 total; 4 can still be reserved',
        'node1 2048 kB: 0 reserved, 512 free in the kernel, 512 total; 512 can still be reserved',
        'node1 1048576 kB: 2 reserved, 4 free in the kernel, 4 total; 2 can still be reserved',
        '',
        'NODE  POOL             FREE             SERVICE  CPUS',
      ]);
      const json = await runCli(['status', '--json', '--socket', d.socketPath]);
      expect(json.code, json.stderr).to.equal(0);
      const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(Object.keys(parsed)).to.deep.equal(['list_allocations', 'get_topology', 'get_memory_info']);
      expect(parsed.get_memory_info).to.deep.equal(await d.call('get_memory_info'));
    });

    it('counts the CPUs a service holds outside the pool as unavailable', async () => {
      // An upgrade finds CPU 0, which is not in the isolated pool, held by "old".
      const d = await start({
        stateFile: JSON.stringify({ allocations_db: { allocations: { old: '0,2' } }, hugepages_db: { allocations: {} }, version: 1 }),
      });
      const exit = await runCli(['status', '--pool', 'isolated', '--socket', d.socketPath]);
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout.split('\n')[0]).to.equal(
        'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 2 allocated, 27 free, 1 unavailable, 1 service; held but unavailable: 0',
      );
    });
  });

  describe('EpaClient notifications', () => {
    it('hands allocation_changed to its listeners, keeps replies to the calls, and stops calling a removed listener', async () => {
      const d = await start();
      const watcher = await d.client();
      const changes: AllocationChangedParams[] = [];
      const methods: string[] = [];
      const removeChanges = watcher.onAllocationChanged((change) => changes.push(change));
      watcher.onNotification((method) => methods.push(method));
      expect(await watcher.subscribe()).to.deep.equal({ subscribed: true });
      await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 });
      // A call on the subscribed connection is answered after the notification sent before it.
      const listed = await watcher.list_allocations();
      expect(listed.total_allocations).to.equal(1);
      expect(changes.map((c) => [c.service_name, c.cores_after, c.cause])).to.deep.equal([['nova', '2,18', 'request']]);
      removeChanges();
      await d.call('release_service', { service_name: 'nova' });
      expect(await watcher.unsubscribe()).to.deep.equal({ subscribed: false });
      expect(changes).to.have.length(1);
      expect(methods).to.deep.equal(['allocation_changed', 'allocation_changed']);
    });

    it('tells its close listeners why the connection ended: an error when the daemon closed it, nothing after close()', async () => {
      const d = await start();
      const ours = await EpaClient.connect(d.socketPath);
      const closedByUs = new Promise<unknown>((resolve) => ours.onClose((error) => resolve(error)));
      ours.close();
      expect(await closedByUs).to.equal(undefined);
      // A listener added after the end is still called.
      expect(await new Promise<unknown>((resolve) => ours.onClose((error) => resolve(error)))).to.equal(undefined);

      const lost = await d.client();
      const closedByDaemon = new Promise<Error | undefined>((resolve) => lost.onClose((error) => resolve(error)));
      await d.stop();
      const error = await closedByDaemon;
      expect(error?.name).to.equal('EpaConnectionError');
      expect(error?.message).to.equal('connection closed by the daemon');
    });

    it('tells a notification (a method, no id) from a reply, whatever its method', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'epa-notify-'));
      const path = join(dir, 'peer.sock');
      // A peer that sends two notifications before each reply, in one write.
      const server: Server = createServer((socket) =>
        socket.on('data', (chunk) => {
          const { id } = JSON.parse(chunk.toString()) as { id: number };
          socket.write(
            [
              { jsonrpc: '2.0', method: 'something_else', params: [1] },
              { jsonrpc: '2.0', method: 'allocation_changed', params: { service_name: 'x' } },
              { jsonrpc: '2.0', id, result: { subscribed: true } },
            ]
              .map((m) => `${JSON.stringify(m)}\n`)
              .join(''),
          );
        }),
      );
      await new Promise<void>((resolve) => server.listen(path, resolve));
      try {
        const client = await EpaClient.connect(path);
        const seen: [string, unknown][] = [];
        const changed: unknown[] = [];
        client.onNotification((method, params) => seen.push([method, params]));
        client.onAllocationChanged((change) => changed.push(change));
        expect(await client.subscribe()).to.deep.equal({ subscribed: true });
        client.close();
        expect(seen).to.deep.equal([
          ['something_else', [1]],
          ['allocation_changed', { service_name: 'x' }],
        ]);
        expect(changed).to.deep.equal([{ service_name: 'x' }]);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
