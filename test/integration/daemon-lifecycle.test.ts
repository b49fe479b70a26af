// The daemon's life on its socket and state dir (the state file as far as a client sees it):
// concurrent clients, durability of an answered change, one daemon per socket and per
// state dir, stale sockets, stopping with a request in flight, and the connection timers.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { StateLockedError } from '../../src/state/errors.js';
import { SocketInUseError } from '../../src/transport/index.js';
import { fakeHost, writeSysfs } from '../fixtures/host.js';
import { FaultyWriter } from '../support/faulty-writer.js';
import { ManualClock } from '../support/clock.js';
import { callOk, daemonsPerTest } from '../support/daemon.js';

/** Whether something accepts connections on the socket path. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A socket file nothing listens on: a child process binds it and is killed before it can clean up. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('daemon: lifecycle, concurrency and durability', () => {
  const start = daemonsPerTest();

  it('serves 50 concurrent clients and keeps every change, in list_allocations and on disk', async () => {
    const d = await start();
    const names = Array.from({ length: 50 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    const clients = await Promise.all(names.map(() => d.client()));
    await Promise.all(
      names.map(async (name, i) => {
        const client = clients[i]!;
        if (i < 20) await callOk(client, 'allocate_cores', { service_name: name, num_of_cores: 1 });
        await callOk(client, 'allocate_hugepages', { service_name: name, node_id: i % 2, size_kb: 2048, hugepages_requested: (i % 10) + 1 });
      }),
    );

    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => a.service_name)).to.deep.equal(names);
    expect(listed.total_allocated_cpus).to.equal(20);
    expect(listed.remaining_available_cpus).to.equal(8);
    const cpus = listed.allocations.flatMap((a) => (a.allocated_cores === '' ? [] : [a.allocated_cores]));
    expect(cpus).to.have.length(20);
    expect(new Set(cpus).size, 'no CPU has two owners').to.equal(20);
    for (const [i, entry] of listed.allocations.entries()) {
      expect(entry.cores_count).to.equal(i < 20 ? 1 : 0);
      expect(entry.hugepages).to.deep.equal([{ node_id: i % 2, size_kb: 2048, count: (i % 10) + 1 }]);
    }

    expect(await d.readState()).to.deep.include({
      allocations_db: {
        allocations: Object.fromEntries(listed.allocations.filter((a) => a.cores_count > 0).map((a) => [a.service_name, a.allocated_cores])),
        explicit_allocations: {},
      },
      hugepages_db: { allocations: Object.fromEntries(listed.allocations.map((a) => [a.service_name, a.hugepages])) },
    });
    const memory = await d.call('get_memory_info');
    expect(memory.numa_hugepages.node0?.capacity[0]?.reserved).to.equal(125);
    expect(memory.numa_hugepages.node1?.capacity[0]?.reserved).to.equal(150);
  });

  it('has an answered change on disk at once, and a new daemon on the same state dir serves it', async () => {
    const d = await start();
    const numa = await d.call('allocate_numa_cores', { service_name: 'vm', numa_node: 1, num_of_cores: 2 });
    // Read before anything else happens: the answer came only after the write was durable.
    expect(await d.readState()).to.deep.include({
      allocations_db: { allocations: { vm: '8,24' }, explicit_allocations: { vm: '8,24' } },
    });
    await d.call('allocate_hugepages', { service_name: 'vm', node_id: 0, size_kb: 2048, hugepages_requested: 32 });
    const before = await d.call('list_allocations');

    await d.restart();
    const after = await d.call('list_allocations');
    expect(after).to.deep.equal(before);
    expect(after.allocations[0]).to.include({ allocated_cores: numa.cores_allocated, explicit_cores: '8,24', is_explicit: true });
    // Explicit CPUs stay protected across the restart.
    const refused = await d.fail('allocate_numa_cores', { service_name: 'other', numa_node: 1, num_of_cores: 15 });
    expect(refused.message).to.equal('NUMA node 1 only has 14 isolated CPUs, but 15 were requested');
  });

  it('refuses a second daemon on the same socket, touching nothing, and the first still answers', async () => {
    const d = await start();
    await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 2 });
    const otherState = await mkdtemp(join(tmpdir(), 'epa-it-state-'));
    try {
      let error: unknown;
      await startDaemon({ ...d.config, stateDir: otherState }, silentLogger()).then(
        async (second) => {
          await second.stop();
          expect.fail('a second daemon started on a socket in use');
        },
        (e: unknown) => (error = e),
      );
      expect(error).to.be.instanceOf(SocketInUseError);
      expect((error as Error).message).to.contain(d.socketPath);
      expect(existsSync(join(otherState, 'state.json'))).to.equal(false);
    } finally {
      await rm(otherState, { recursive: true, force: true });
    }
    expect((await lstat(d.socketPath)).isSocket()).to.equal(true);
    const fresh = await d.client();
    expect((await callOk(fresh, 'list_allocations')).allocations.map((a) => a.allocated_cores)).to.deep.equal(['2,18']);
  });

  it('refuses a second daemon on the same state dir, even on another socket', async () => {
    const d = await start();
    const otherSocket = join(d.dir, 'other.sock');
    let error: unknown;
    await startDaemon({ ...d.config, socket: otherSocket }, silentLogger()).then(
      async (second) => {
        await second.stop();
        expect.fail('a second daemon started on a state dir in use');
      },
      (e: unknown) => (error = e),
    );
    expect(error).to.be.instanceOf(StateLockedError);
    expect(existsSync(otherSocket)).to.equal(false);
    expect((await d.call('get_topology')).pool).to.equal('2-15,18-31');
  });

  it('replaces a stale socket file nothing answers on', async function () {
    this.timeout(10_000);
    const dir = await mkdtemp(join(tmpdir(), 'epa-it-stale-'));
    try {
      const socket = join(dir, 'epa.sock');
      await staleSocket(socket);
      expect((await lstat(socket)).isSocket()).to.equal(true);
      expect(await answers(socket)).to.equal(false);
      const d = await start({ config: { socket } });
      expect((await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 1 })).allocated_cores).to.equal('2');
      await d.stop();
      expect(existsSync(socket), 'the socket is removed at stop').to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('on stop, answers a request in flight, makes it durable, then removes the socket', async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer });
    const client = await d.client();
    // Hold the change's write until the stop has begun.
    writer.hold();
    const events: string[] = [];
    const reply = callOk(client, 'allocate_cores', { service_name: 'slow', num_of_cores: 3 }).then((result) => {
      events.push('answered');
      return result;
    });
    await writer.held();
    const stopping = d.stop().then(() => events.push('stopped'));
    expect(existsSync(d.socketPath), 'no new connections once stopping').to.equal(false);
    expect(events, 'nothing answered or stopped yet').to.deep.equal([]);
    writer.release();
    expect((await reply).allocated_cores).to.equal('2-3,18');
    await stopping;
    expect(events, 'stop waits for the request in flight').to.deep.equal(['answered', 'stopped']);

    await d.restart();
    expect((await d.call('list_allocations')).allocations.map((a) => [a.service_name, a.allocated_cores])).to.deep.equal([
      ['slow', '2-3,18'],
    ]);
  });

  it('after a topology reload, keeps CPUs that left the pool with their owner as stale, and never hands them out', async () => {
    const d = await start();
    await d.call('allocate_cores', { service_name: 'old', num_of_cores: 4 });
    // The host rebooted with other isolcpus: cores 2 and 3 are no longer isolated.
    writeSysfs(fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool: '4-15,20-31' }), d.sysfsPath);
    d.daemon.reload();
    const listed = await d.call('list_allocations');
    expect(listed).to.include({ total_available_cpus: 24, remaining_available_cpus: 24, total_allocated_cpus: 4 });
    expect(listed.allocations[0]).to.include({ allocated_cores: '2-3,18-19', stale_cores: '2-3,18-19' });
    const all = await d.call('allocate_cores', { service_name: 'new', num_of_cores: 24 });
    expect(all.allocated_cores).to.equal('4-15,20-31');
    const more = await d.fail('allocate_cores', { service_name: 'new', num_of_cores: 25 });
    expect(more.message).to.equal('Insufficient CPUs available. Requested: 25, Available: 24');
    expect((await d.call('get_topology')).pool).to.equal('4-15,20-31');
  });

  it('closes a connection whose message stays incomplete past the limit, and an idle one', async () => {
    const clock = new ManualClock();
    const d = await start({ clock, config: { partialTimeoutMs: 200, idleTimeoutMs: 500 } });
    const idle = await d.raw();
    const partial = await d.raw();
    partial.write('{"jsonrpc":"2.0","id":1,"method":"get_topo');
    await clock.whenArmed(200);
    clock.advance(200);
    await partial.closed;
    expect(idle.isClosed, 'the idle one is not closed yet').to.equal(false);
    clock.advance(300);
    await idle.closed;
    const fresh = await d.raw();
    expect(await fresh.roundTrip({ jsonrpc: '2.0', id: 9, method: 'get_topology' })).to.have.property('id', 9);
  });
});

