// The Python snap's one-shot protocol (docs/api.md) against a real daemon, with a client that
// behaves like the Python ones: connect, send one JSON object without a newline, one recv(4096),
// and the daemon closes the connection after its reply. Results carry "version":"1.0"; failures
// are {"version":"1.0","error":"<message>"} with the Python daemon's sentences. The request rules
// are the Python daemon's (pydantic's): unknown members ignored, null as absent, its defaults, and
// integers written as decimal strings.
import { expect } from 'chai';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PythonSocket, pythonJson, recvUntilEof } from '../clients/python-socket.js';
import { expectPythonError, expectPythonReply } from '../clients/python-replies.js';
import { checked, oneShot, TestDaemon } from '../support/daemon.js';

describe('daemon: legacy one-shot protocol', () => {
  let d: TestDaemon;
  const legacy = (action: string, fields: Record<string, unknown> = {}) =>
    oneShot(d.socketPath, { version: '1.0', service_name: 'nova', action, ...fields });

  beforeEach(async () => {
    d = await TestDaemon.start();
  });
  afterEach(async () => {
    await d.cleanup();
  });

  it('runs allocate_cores and answers the result plus "version":"1.0"', async () => {
    const reply = await legacy('allocate_cores', { num_of_cores: 4 });
    expect(reply).to.deep.equal({
      service_name: 'nova',
      num_of_cores: 4,
      cores_allocated: 4,
      allocated_cores: '2-3,18-19',
      shared_cpus: '4-15,20-31',
      total_available_cpus: 28,
      remaining_available_cpus: 24,
      preemption_policy: 'legacy',
      pool: 'isolated',
      cpu_thread_policy: 'prefer',
      isolated_siblings: '',
      version: '1.0',
    });
    checked('allocate_cores', reply);
    expectPythonReply('allocate_cores', reply);
    // The change is the same one a JSON-RPC client sees.
    const [entry] = (await d.call('list_allocations')).allocations;
    expect(entry).to.include({ service_name: 'nova', allocated_cores: '2-3,18-19' });
  });

  it('answers a domain error with the Python sentence and changes nothing', async () => {
    await legacy('allocate_cores', { num_of_cores: 20 });
    const errors = [
      await oneShot(d.socketPath, { version: '1.0', service_name: 'ovs', action: 'allocate_cores', num_of_cores: 9 }),
      await legacy('allocate_numa_cores', { numa_node: 7, num_of_cores: 1 }),
      await legacy('allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: 99 }),
      await legacy('allocate_hugepages', { node_id: 0, size_kb: 4096, hugepages_requested: 1 }),
      await legacy('allocate_hugepages', { node_id: 3, size_kb: 2048, hugepages_requested: 1 }),
      await legacy('allocate_hugepages', { node_id: 0, size_kb: 1048576, hugepages_requested: 9 }),
    ];
    expect(errors.map(expectPythonError)).to.deep.equal([
      'Insufficient CPUs available. Requested: 9, Available: 8',
      'NUMA node 7 does not exist',
      'NUMA node 0 only has 12 isolated CPUs, but 99 were requested',
      'Hugepage size 4096 KB not found on node 0',
      'NUMA node 3 not found',
      'NUMA node 0 size 1048576 KB only has 4 free hugepages, requested additional 9',
    ]);
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => [a.service_name, a.cores_count, a.hugepages])).to.deep.equal([['nova', 20, []]]);
  });

  it('answers "No CPUs available" for an allocation on an empty pool, but releases there', async () => {
    const empty = await TestDaemon.start({ config: { cpuPool: '' } });
    try {
      const ask = (action: string, fields: Record<string, unknown>) =>
        oneShot(empty.socketPath, { version: '1.0', service_name: 'ovs', action, ...fields });
      expect(expectPythonError(await ask('allocate_cores', { num_of_cores: 2 }))).to.equal('No CPUs available');
      expect(expectPythonError(await ask('allocate_numa_cores', { numa_node: 0, num_of_cores: 2 }))).to.equal('No CPUs available');
      const release = await ask('allocate_numa_cores', { numa_node: 1, num_of_cores: -1 });
      expectPythonReply('allocate_numa_cores', release);
      expect(release).to.include({ cores_allocated: '', total_available_cpus: 0 });
      expectPythonReply('allocate_cores', await ask('allocate_cores', { num_of_cores: -1 }));
    } finally {
      await empty.cleanup();
    }
  });

  it('refuses a zero count with the Python sentences', async () => {
    expect(expectPythonError(await legacy('allocate_numa_cores', { numa_node: 0, num_of_cores: 0 }))).to.equal(
      'num_of_cores=0 is invalid for allocate_numa_cores',
    );
    expect(expectPythonError(await legacy('allocate_hugepages', { node_id: 0, size_kb: 2048, hugepages_requested: '0' }))).to.equal(
      'hugepages_requested=0 is invalid for allocate_hugepages',
    );
    expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
  });

  it('answers an unknown or missing action with "Unknown action: <action>", as Python writes it', async () => {
    for (const action of ['frobnicate', 'toString', '__proto__', 'rpc.discover']) {
      expect(await legacy(action), action).to.deep.equal({ version: '1.0', error: `Unknown action: ${action}` });
    }
    expect(await oneShot(d.socketPath, { version: '1.0', service_name: 'nova' })).to.deep.equal({ version: '1.0', error: 'Unknown action: None' });
    expect(await oneShot(d.socketPath, { version: '1.0', action: null })).to.deep.equal({ version: '1.0', error: 'Unknown action: None' });
    expect(await oneShot(d.socketPath, { action: true })).to.deep.equal({ version: '1.0', error: 'Unknown action: True' });
    expect(await oneShot(d.socketPath, { action: 5 })).to.deep.equal({ version: '1.0', error: 'Unknown action: 5' });
  });

  it('checks the version when there is one: only "1.0"', async () => {
    expect(await legacy('list_allocations', { version: '2.0' })).to.deep.equal({ version: '1.0', error: 'Unsupported version: 2.0' });
    expect(await legacy('list_allocations', { version: 1 })).to.deep.equal({ version: '1.0', error: 'Unsupported version: 1' });
    const absent = await oneShot(d.socketPath, { action: 'get_topology' });
    expect(absent).to.include({ pool: '2-15,18-31', version: '1.0' });
    const nulled = await oneShot(d.socketPath, { version: null, action: 'list_allocations' });
    expectPythonReply('list_allocations', nulled);
  });

  it('ignores unknown members and takes null as absent, as pydantic did', async () => {
    // The openstack-hypervisor snap's request, byte for byte.
    const reply = await oneShot(d.socketPath, {
      version: '1.0',
      action: 'allocate_cores',
      service_name: 'openstack-hypervisor',
      num_of_cores: 0,
      numa_node: null,
    });
    expectPythonReply('allocate_cores', reply);
    expect(reply).to.include({ num_of_cores: 0, cores_allocated: 22 });
    const extra = await legacy('allocate_cores', { num_of_cores: 2, extra: { nested: [1] }, preemption_policy: null, pool: null });
    expect(extra).to.include({ service_name: 'nova', cores_allocated: 2, pool: 'isolated', preemption_policy: 'legacy' });
    const memory = await legacy('get_memory_info', { service_name: null });
    expectPythonReply('get_memory_info', memory);
    expect(memory.service_name).to.equal('');
  });

  it("applies the Python defaults: allocate_cores without num_of_cores is the default share", async () => {
    const reply = await legacy('allocate_cores');
    expectPythonReply('allocate_cores', reply);
    expect(reply).to.include({ num_of_cores: 0, cores_allocated: 22 });
  });

  it('takes integers written as decimal strings, as pydantic lax mode did, and nothing looser', async () => {
    const reply = await legacy('allocate_cores', { num_of_cores: '2' });
    expect(reply).to.include({ num_of_cores: 2, cores_allocated: 2 });
    const numa = await legacy('allocate_numa_cores', { service_name: 'ovs', numa_node: ' 1 ', num_of_cores: '-1' });
    expect(numa).to.include({ numa_node: 1, num_of_cores: -1, cores_allocated: '' });
    const percent = await legacy('allocate_cores_percent', { service_name: 'pct', percent: '+10' });
    expect(percent).to.include({ cores_allocated_count: 3 });
    expect(await legacy('allocate_cores', { num_of_cores: '2.5' })).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /num_of_cores must be integer',
    });
    expect(await legacy('allocate_cores', { num_of_cores: true })).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /num_of_cores must be integer',
    });
    expect(await legacy('allocate_cores', { num_of_cores: -2 })).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /num_of_cores must be >= -1',
    });
    expect(await legacy('allocate_cores', { service_name: 'no spaces', num_of_cores: 1 })).to.have.property('error').that.matches(/^Invalid params: \/service_name /);
    expect(await legacy('allocate_cores', { service_name: '12', num_of_cores: 1 })).to.include({ service_name: '12', cores_allocated: 1 });
  });

  it('removes a hugepage record that is not there, whatever the node or size, as a success', async () => {
    for (const [node_id, size_kb] of [
      [0, 1048576],
      [9, 1048576],
      [0, 4096],
    ]) {
      const reply = await legacy('allocate_hugepages', { node_id, size_kb, hugepages_requested: -1 });
      expectPythonReply('allocate_hugepages', reply);
      expect(reply).to.include({ message: 'No existing record to remove', allocation_successful: true, node_id, size_kb });
    }
  });

  it('lists a service that holds only hugepages with a policy, as the Python model requires', async () => {
    const topology = await legacy('get_topology');
    expect(topology).to.include({ pool: '2-15,18-31', online: '0-31', version: '1.0' });
    checked('get_topology', topology);
    await legacy('allocate_hugepages', { node_id: 1, size_kb: 2048, hugepages_requested: 64 });
    const listed = await legacy('list_allocations');
    expectPythonReply('list_allocations', listed);
    expect(listed).to.deep.include({
      version: '1.0',
      pool: 'isolated',
      total_allocations: 1,
      allocations: [
        {
          service_name: 'nova',
          allocated_cores: '',
          cores_count: 0,
          is_explicit: false,
          explicit_cores: '',
          numa_nodes: [],
          hugepages: [{ node_id: 1, size_kb: 2048, count: 64 }],
          stale_cores: '',
          preemption_policy: 'legacy',
          pool: 'isolated',
          // Only preemption_policy is given a value for the Python model; the thread policy stays null.
          cpu_thread_policy: null,
          isolated_siblings: '',
        },
      ],
    });
    // JSON-RPC keeps the contract's null: the service holds no CPUs.
    expect((await d.call('list_allocations')).allocations[0]?.preemption_policy).to.equal(null);
  });

  it('runs every other method: percent, NUMA, hugepages, memory info, release', async () => {
    const percent = await legacy('allocate_cores_percent', { percent: 25 });
    expect(percent).to.include({ cores_allocated_count: 7, version: '1.0' });
    checked('allocate_cores_percent', percent);
    expectPythonReply('allocate_cores_percent', percent);

    const numa = await oneShot(d.socketPath, { version: '1.0', service_name: 'dpdk', action: 'allocate_numa_cores', numa_node: 1, num_of_cores: 2 });
    checked('allocate_numa_cores', numa);
    expectPythonReply('allocate_numa_cores', numa);
    expect(numa).to.deep.include({ service_name: 'dpdk', numa_node: 1, num_of_cores: 2, preempted: [], version: '1.0' });

    const pages = await legacy('allocate_hugepages', { node_id: 0, size_kb: 1048576, hugepages_requested: 2 });
    checked('allocate_hugepages', pages);
    expectPythonReply('allocate_hugepages', pages);
    expect(pages).to.include({ allocation_successful: true, hugepages_requested: 2, version: '1.0' });

    const memory = await legacy('get_memory_info');
    checked('get_memory_info', memory);
    expectPythonReply('get_memory_info', memory);
    expect(memory.service_name).to.equal('nova');
    expect((memory.numa_hugepages as Record<string, { allocations: unknown }>).node0?.allocations).to.deep.equal({
      nova: { '1048576': 2 },
    });

    const released = await legacy('release_service');
    checked('release_service', released);
    expect(released).to.deep.include({
      service_name: 'nova',
      released_cores: percent.allocated_cores,
      released_hugepages: [{ node_id: 0, size_kb: 1048576, count: 2 }],
      version: '1.0',
    });
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => a.service_name)).to.deep.equal(['dpdk']);
  });

  it('takes a message with "version" or "action" and no "jsonrpc" as one-shot; with "jsonrpc" it is JSON-RPC', async () => {
    const rpc = await d.raw();
    const reply = (await rpc.roundTrip({ jsonrpc: '2.0', id: 1, method: 'get_topology', action: 'list_allocations' })) as {
      id: number;
      result: unknown;
    };
    expect(reply.id).to.equal(1);
    expect(checked('get_topology', reply.result).pool).to.equal('2-15,18-31');
    expect(rpc.isClosed, 'a JSON-RPC connection stays open').to.equal(false);
  });

  it('answers one request per connection: the reply, then the close, whatever follows', async () => {
    const socket = await PythonSocket.connect(d.socketPath, 3000);
    try {
      // A second request after the first is never run: the Python daemon read one request only.
      await socket.sendall(pythonJson({ version: '1.0', action: 'allocate_cores', service_name: 'a', num_of_cores: 1 }));
      await socket.sendall(pythonJson({ version: '1.0', action: 'allocate_cores', service_name: 'b', num_of_cores: 1 }));
      const everything = (await recvUntilEof(socket, 65536)).toString();
      expect(everything.split('\n').filter((line) => line !== '')).to.have.length(1);
      expect(JSON.parse(everything)).to.include({ service_name: 'a', version: '1.0' });
    } finally {
      socket.close();
    }
    expect((await d.call('list_allocations')).allocations.map((a) => a.service_name)).to.deep.equal(['a']);
  });

  it('answers bytes that are not JSON with the JSON-RPC parse error at once, which has an "error" member', async () => {
    const socket = await PythonSocket.connect(d.socketPath, 3000);
    try {
      await socket.sendall('not json');
      const reply = JSON.parse((await socket.recv(4096)).toString()) as Record<string, unknown>;
      expect(reply).to.deep.equal({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    } finally {
      socket.close();
    }
  });

  it('answers an internal failure as "Internal error" with no details', async () => {
    const counter = join(d.sysfsPath, 'devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages');
    await rm(counter);
    await mkdir(counter);
    expect(await legacy('get_memory_info')).to.deep.equal({ version: '1.0', error: 'Internal error' });
  });
});
