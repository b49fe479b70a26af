// The Python snap's one-shot protocol (SPEC section 7) against a real daemon, with a client that
// behaves like the Python one: connect, send one JSON object without a newline, read the reply,
// close. Results carry "version":"1.0"; failures are {"version":"1.0","error":"<message>"}.
import { expect } from 'chai';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checked, oneShot, TestDaemon } from './harness.js';

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
      version: '1.0',
    });
    checked('allocate_cores', reply);
    // The change is the same one a JSON-RPC client sees.
    const [entry] = (await d.call('list_allocations')).allocations;
    expect(entry).to.include({ service_name: 'nova', allocated_cores: '2-3,18-19' });
  });

  it('answers a domain error as {"version":"1.0","error":<message>} and changes nothing', async () => {
    await legacy('allocate_cores', { num_of_cores: 20 });
    expect(await oneShot(d.socketPath, { version: '1.0', service_name: 'ovs', action: 'allocate_cores', num_of_cores: 9 })).to.deep.equal({
      version: '1.0',
      error: 'Insufficient CPUs available. Requested: 9, Available: 8',
    });
    expect(await legacy('allocate_numa_cores', { numa_node: 7, num_of_cores: 1 })).to.deep.equal({
      version: '1.0',
      error: 'NUMA node 7 does not exist',
    });
    expect(await legacy('allocate_hugepages', { node_id: 0, size_kb: 4096, hugepages_requested: 1 })).to.deep.equal({
      version: '1.0',
      error: 'Hugepage size 4096 KB not found on node 0',
    });
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => [a.service_name, a.cores_count, a.hugepages])).to.deep.equal([['nova', 20, []]]);
  });

  it('answers an unknown action with "Unknown action: <action>"', async () => {
    for (const action of ['frobnicate', 'toString', '__proto__', 'rpc.discover']) {
      expect(await legacy(action), action).to.deep.equal({ version: '1.0', error: `Unknown action: ${action}` });
    }
  });

  it('answers invalid params as an error naming the field', async () => {
    expect(await legacy('allocate_cores', { num_of_cores: '4' })).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /num_of_cores must be integer',
    });
    expect(await legacy('allocate_cores', { num_of_cores: 1, extra: 1 })).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /extra is not a known parameter',
    });
    expect(await legacy('allocate_cores', {})).to.deep.equal({
      version: '1.0',
      error: 'Invalid params: /num_of_cores is required',
    });
  });

  it('accepts service_name on the methods that ignore it (get_topology, list_allocations)', async () => {
    const topology = await legacy('get_topology');
    expect(topology).to.include({ pool: '2-15,18-31', online: '0-31', version: '1.0' });
    checked('get_topology', topology);
    await legacy('allocate_hugepages', { node_id: 1, size_kb: 2048, hugepages_requested: 64 });
    const listed = await legacy('list_allocations');
    checked('list_allocations', listed);
    expect(listed).to.deep.include({
      version: '1.0',
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
          preemption_policy: null,
          pool: 'isolated',
        },
      ],
    });
  });

  it('runs every other method: percent, NUMA, hugepages, memory info, release', async () => {
    const percent = await legacy('allocate_cores_percent', { percent: 25 });
    expect(percent).to.include({ cores_allocated_count: 7, version: '1.0' });
    checked('allocate_cores_percent', percent);

    const numa = await oneShot(d.socketPath, { version: '1.0', service_name: 'dpdk', action: 'allocate_numa_cores', numa_node: 1, num_of_cores: 2 });
    checked('allocate_numa_cores', numa);
    expect(numa).to.deep.include({ service_name: 'dpdk', numa_node: 1, num_of_cores: 2, preempted: [], version: '1.0' });

    const pages = await legacy('allocate_hugepages', { node_id: 0, size_kb: 1048576, hugepages_requested: 2 });
    checked('allocate_hugepages', pages);
    expect(pages).to.include({ allocation_successful: true, hugepages_requested: 2, version: '1.0' });

    const memory = await legacy('get_memory_info');
    checked('get_memory_info', memory);
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

  it('works without "version", and treats a message with "jsonrpc" as JSON-RPC', async () => {
    const bare = await oneShot(d.socketPath, { action: 'get_topology' });
    expect(bare).to.include({ pool: '2-15,18-31', version: '1.0' });
    const rpc = await oneShot(d.socketPath, { jsonrpc: '2.0', id: 1, method: 'get_topology', action: 'list_allocations' });
    expect(rpc).to.include({ jsonrpc: '2.0', id: 1 });
    expect(checked('get_topology', rpc.result).pool).to.equal('2-15,18-31');
  });

  it('answers an internal failure as "Internal error" with no details', async () => {
    const counter = join(d.sysfsPath, 'devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages');
    await rm(counter);
    await mkdir(counter);
    expect(await legacy('get_memory_info')).to.deep.equal({ version: '1.0', error: 'Internal error' });
  });
});
