// Every method (docs/api.md) over JSON-RPC on a real socket, with its domain errors.
// Each test gets a fresh daemon on the sample host (pool 2-15,18-31; node 0 = 0-7,16-23, node 1 =
// 8-15,24-31; cpu i and i+16 siblings; per node 512 × 2 MiB and 4 × 1 GiB pages) unless it names
// another fixture.
import { expect } from 'chai';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ALLOCATION_CHANGED, buildOpenRpc, METHOD_NAMES } from '../../schema/index.js';
import { writeSysfs } from '../fixtures/host.js';
import { EPYC_LIKE, HUGEPAGES_SOME_NODES, NO_ISOLATED, NO_NUMA_DIRS, SAMPLE } from '../fixtures/hosts.js';
import { fakeHost } from '../fixtures/host.js';
import { daemonsPerTest } from '../support/daemon.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

describe('daemon over JSON-RPC: methods', () => {
  const start = daemonsPerTest();

  describe('allocate_cores', () => {
    it('gives exactly N CPUs, keeps them when the service asks for more, and reports the free pool', async () => {
      const d = await start();
      expect(await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 4 })).to.deep.equal({
        service_name: 'vm-a',
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
      });
      const grown = await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 6 });
      expect(grown.allocated_cores).to.equal('2-4,18-20');
      expect(grown.remaining_available_cpus).to.equal(22);
    });

    it('takes only CPUs no other service holds', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 12 });
      const b = await d.call('allocate_cores', { service_name: 'vm-b', num_of_cores: 16 });
      expect(b.allocated_cores).to.equal('8-15,24-31');
      expect(b.shared_cpus).to.equal('');
      expect(b.remaining_available_cpus).to.equal(0);
    });

    it('applies the default policy for 0: floor(0.8 × free pool of the service)', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 8 });
      const b = await d.call('allocate_cores', { service_name: 'vm-b', num_of_cores: 0 });
      // 20 CPUs are free for vm-b: floor(16) = 16, exactly node 1.
      expect(b).to.include({ num_of_cores: 0, cores_allocated: 16, allocated_cores: '8-15,24-31' });
      expect(b.shared_cpus).to.equal('6-7,22-23');
    });

    it('releases every CPU of the service on -1, and -1 without CPUs is no error', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 4 });
      expect(await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: -1 })).to.deep.equal({
        service_name: 'vm-a',
        num_of_cores: -1,
        cores_allocated: 0,
        allocated_cores: '',
        shared_cpus: '2-15,18-31',
        total_available_cpus: 28,
        remaining_available_cpus: 28,
        preemption_policy: null,
        pool: 'isolated',
        cpu_thread_policy: null,
        isolated_siblings: '',
      });
      const again = await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: -1 });
      expect(again.allocated_cores).to.equal('');
      expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
    });

    it('answers INSUFFICIENT_CPUS with requested and available, and changes nothing', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 20 });
      await d.call('allocate_cores', { service_name: 'vm-b', num_of_cores: 2 });
      const error = await d.fail('allocate_cores', { service_name: 'vm-b', num_of_cores: 9 });
      expect(error.code).to.equal(-32002);
      expect(error.message).to.equal('Insufficient CPUs available. Requested: 9, Available: 8');
      expect(error.data).to.deep.include({ reason: 'INSUFFICIENT_CPUS', requested: 9, available: 8 });
      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => [a.service_name, a.cores_count])).to.deep.equal([
        ['vm-a', 20],
        ['vm-b', 2],
      ]);
    });

    it('answers NO_ISOLATED_CPUS on a host without isolated CPUs, except for a release', async () => {
      const d = await start({ host: NO_ISOLATED });
      const error = await d.fail('allocate_cores', { service_name: 'vm-a', num_of_cores: 1 });
      expect([error.code, error.message]).to.deep.equal([-32001, 'No CPUs available']);
      expect(error.data).to.deep.equal({ reason: 'NO_ISOLATED_CPUS' });
      const zero = await d.fail('allocate_cores', { service_name: 'vm-a', num_of_cores: 0 });
      expect(zero.code).to.equal(-32001);
      const release = await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: -1 });
      expect(release).to.include({ cores_allocated: 0, allocated_cores: '', total_available_cpus: 0 });
    });
  });

  describe('allocate_cores_percent', () => {
    it('gives ceil(pool × percent / 100) CPUs and releases on 0 and -1', async () => {
      const d = await start();
      expect(await d.call('allocate_cores_percent', { service_name: 'ovs', percent: 50 })).to.deep.equal({
        service_name: 'ovs',
        cores_allocated_count: 14,
        allocated_cores: '8-14,24-30',
        total_available_cpus: 28,
        remaining_available_cpus: 14,
        preemption_policy: 'legacy',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      });
      // ceil(28 × 0.1) = 3: kept from what the service holds.
      const shrunk = await d.call('allocate_cores_percent', { service_name: 'ovs', percent: 10 });
      expect(shrunk).to.include({ cores_allocated_count: 3, remaining_available_cpus: 25 });
      for (const percent of [0, -1]) {
        await d.call('allocate_cores_percent', { service_name: 'ovs', percent: 10 });
        const released = await d.call('allocate_cores_percent', { service_name: 'ovs', percent });
        expect(released).to.include({ cores_allocated_count: 0, allocated_cores: '', remaining_available_cpus: 28 });
      }
    });

    it('answers INSUFFICIENT_CPUS when the share is held by others, and NO_ISOLATED_CPUS on an empty pool', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 20 });
      const error = await d.fail('allocate_cores_percent', { service_name: 'ovs', percent: 50 });
      expect([error.code, error.message]).to.deep.equal([-32002, 'Insufficient CPUs available. Requested: 14, Available: 8']);
      expect(error.data).to.deep.include({ reason: 'INSUFFICIENT_CPUS', requested: 14, available: 8 });

      const empty = await start({ host: NO_ISOLATED });
      const none = await empty.fail('allocate_cores_percent', { service_name: 'ovs', percent: 100 });
      expect([none.code, none.message]).to.deep.equal([-32001, 'No CPUs available']);
    });
  });

  describe('allocate_numa_cores', () => {
    it('takes free CPUs of the node first, then preempts automatic ones, and lists what it took', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'auto', num_of_cores: 14 });
      expect(await d.call('allocate_numa_cores', { service_name: 'pinned', numa_node: 1, num_of_cores: 4 })).to.deep.equal({
        service_name: 'pinned',
        numa_node: 1,
        num_of_cores: 4,
        cores_allocated: '8,15,24,31',
        total_available_cpus: 28,
        remaining_available_cpus: 12,
        preempted: [{ service_name: 'auto', cores: '8,24' }],
        preemption_policy: 'legacy',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      });
      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores, a.is_explicit, a.explicit_cores])).to.deep.equal([
        ['auto', '9-14,25-30', false, ''],
        ['pinned', '8,15,24,31', true, '8,15,24,31'],
      ]);
    });

    it('keeps CPUs on other nodes, replaces those on the node, and releases the node on -1', async () => {
      const d = await start();
      await d.call('allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 2 });
      const second = await d.call('allocate_numa_cores', { service_name: 'svc', numa_node: 1, num_of_cores: 2 });
      expect(second).to.include({ cores_allocated: '8,24', remaining_available_cpus: 24 });
      expect(second.preempted).to.deep.equal([]);
      const released = await d.call('allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: -1 });
      expect(released).to.include({ num_of_cores: -1, cores_allocated: '', remaining_available_cpus: 26 });
      const [entry] = (await d.call('list_allocations')).allocations;
      expect(entry).to.include({ service_name: 'svc', allocated_cores: '8,24', explicit_cores: '8,24' });
      expect(entry?.numa_nodes).to.deep.equal([1]);
    });

    it('never takes explicit CPUs: INSUFFICIENT_CPUS names the node and counts, nothing changes', async () => {
      const d = await start();
      await d.call('allocate_numa_cores', { service_name: 'pinned', numa_node: 1, num_of_cores: 4 });
      const error = await d.fail('allocate_numa_cores', { service_name: 'other', numa_node: 1, num_of_cores: 13 });
      expect(error.code).to.equal(-32002);
      expect(error.message).to.equal('NUMA node 1 only has 12 isolated CPUs, but 13 were requested');
      expect(error.data).to.deep.include({ reason: 'INSUFFICIENT_CPUS', requested: 13, available: 12 });
      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => a.service_name)).to.deep.equal(['pinned']);
    });

    it('answers NUMA_NODE_NOT_FOUND for an unknown node', async () => {
      const d = await start();
      const error = await d.fail('allocate_numa_cores', { service_name: 'svc', numa_node: 7, num_of_cores: 1 });
      expect([error.code, error.message]).to.deep.equal([-32003, 'NUMA node 7 does not exist']);
      expect(error.data).to.deep.include({ reason: 'NUMA_NODE_NOT_FOUND' });
    });

    it('answers NUMA_TOPOLOGY_UNAVAILABLE on a host without node directories', async () => {
      const d = await start({ host: NO_NUMA_DIRS });
      const error = await d.fail('allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 1 });
      expect(error.code).to.equal(-32004);
      expect(error.data).to.deep.include({ reason: 'NUMA_TOPOLOGY_UNAVAILABLE' });
      // allocate_cores still works there: every CPU counts as node 0.
      const cores = await d.call('allocate_cores', { service_name: 'svc', num_of_cores: 2 });
      expect(cores.allocated_cores).to.equal('1,9');
    });

    it('refuses 0 CPUs as invalid params', async () => {
      const d = await start();
      const error = await d.fail('allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 0 });
      expect(error.code).to.equal(-32602);
      expect((error.data as { errors: { path: string }[] }).errors.map((e) => e.path)).to.deep.equal(['/num_of_cores']);
    });
  });

  describe('list_allocations', () => {
    it('lists every service sorted by name, with hugepage-only services, and ignores extra params', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'zeta', num_of_cores: 2 });
      await d.call('allocate_hugepages', { service_name: 'alpha', node_id: 1, size_kb: 2048, hugepages_requested: 16 });
      await d.call('allocate_numa_cores', { service_name: 'mid', numa_node: 1, num_of_cores: 2 });
      const listed = await d.call('list_allocations', { service_name: 'ignored', anything: [1, 2] });
      expect(listed).to.deep.equal({
        pool: 'isolated',
        total_allocations: 3,
        total_allocated_cpus: 4,
        total_available_cpus: 28,
        remaining_available_cpus: 24,
        allocations: [
          {
            service_name: 'alpha',
            allocated_cores: '',
            cores_count: 0,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [],
            hugepages: [{ node_id: 1, size_kb: 2048, count: 16 }],
            stale_cores: '',
            preemption_policy: null,
            pool: 'isolated',
            cpu_thread_policy: null,
            isolated_siblings: '',
          },
          {
            service_name: 'mid',
            allocated_cores: '8,24',
            cores_count: 2,
            is_explicit: true,
            explicit_cores: '8,24',
            numa_nodes: [1],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            pool: 'isolated',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
          },
          {
            service_name: 'zeta',
            allocated_cores: '2,18',
            cores_count: 2,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [0],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            pool: 'isolated',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
          },
        ],
        ...SAMPLE_POOL_FIELDS,
      });
    });
  });

  describe('get_memory_info and allocate_hugepages', () => {
    it('reports capacity per node and size, and reservations per service', async () => {
      const d = await start();
      const before = await d.call('get_memory_info');
      expect(before.service_name).to.equal('');
      expect(before.numa_hugepages.node0).to.deep.equal({
        capacity: [
          { size: 2048, total: 512, free: 512, free_kernel: 512, reserved: 0 },
          { size: 1048576, total: 4, free: 4, free_kernel: 4, reserved: 0 },
        ],
        allocations: {},
      });
      expect(await d.call('allocate_hugepages', { service_name: 'vm-a', node_id: 0, size_kb: 2048, hugepages_requested: 100 })).to.deep.equal({
        service_name: 'vm-a',
        hugepages_requested: 100,
        allocation_successful: true,
        message: 'Recorded 100 hugepages of 2048 KB on NUMA node 0',
        node_id: 0,
        size_kb: 2048,
      });
      const after = await d.call('get_memory_info', { service_name: 'vm-a' });
      expect(after.service_name).to.equal('vm-a');
      expect(after.numa_hugepages.node0?.capacity[0]).to.deep.equal({ size: 2048, total: 512, free: 412, free_kernel: 512, reserved: 100 });
      expect(after.numa_hugepages.node0?.allocations).to.deep.equal({ 'vm-a': { '2048': 100 } });
      expect(after.numa_hugepages.node1?.allocations).to.deep.equal({});
    });

    it('lists nodes without hugepages as empty, and reads the kernel counters on every call', async () => {
      const d = await start({ host: HUGEPAGES_SOME_NODES });
      const info = await d.call('get_memory_info');
      expect(Object.keys(info.numa_hugepages)).to.deep.equal(['node0', 'node1', 'node2', 'node3']);
      expect(info.numa_hugepages.node1).to.deep.equal({ capacity: [], allocations: {} });
      expect(info.numa_hugepages.node2?.capacity).to.deep.equal([{ size: 2048, total: 256, free: 100, free_kernel: 100, reserved: 0 }]);

      // The kernel's free count drops under the daemon: the next call sees it.
      writeSysfs(
        fakeHost({
          nodes: 4,
          coresPerNode: 2,
          threads: 2,
          pool: '1-7,9-15',
          hugepages: [{ node: 2, sizeKb: 2048, total: 256, free: 7 }],
        }),
        d.sysfsPath,
      );
      const error = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 2, size_kb: 2048, hugepages_requested: 8 });
      expect(error.message).to.equal('NUMA node 2 size 2048 KB only has 7 free hugepages, requested additional 8');
    });

    it('replaces a reservation, checks only the increase, and always lets it shrink', async () => {
      const d = await start();
      const params = { service_name: 'vm-a', node_id: 0, size_kb: 1048576 };
      await d.call('allocate_hugepages', { ...params, hugepages_requested: 3 });
      const error = await d.fail('allocate_hugepages', { ...params, hugepages_requested: 5 });
      expect(error.code).to.equal(-32006);
      expect(error.message).to.equal('NUMA node 0 size 1048576 KB only has 1 free hugepages, requested additional 2');
      expect(error.data).to.deep.include({ reason: 'INSUFFICIENT_HUGEPAGES', requested: 2, available: 1 });
      await d.call('allocate_hugepages', { ...params, hugepages_requested: 4 });
      await d.call('allocate_hugepages', { ...params, hugepages_requested: 1 });
      const other = await d.fail('allocate_hugepages', { ...params, service_name: 'vm-b', hugepages_requested: 4 });
      expect(other.data).to.deep.include({ requested: 4, available: 3 });
      const info = await d.call('get_memory_info');
      expect(info.numa_hugepages.node0?.allocations).to.deep.equal({ 'vm-a': { '1048576': 1 } });
    });

    it('removes a reservation on -1, and says so when there is none', async () => {
      const d = await start();
      const params = { service_name: 'vm-a', node_id: 1, size_kb: 2048 };
      await d.call('allocate_hugepages', { ...params, hugepages_requested: 10 });
      const removed = await d.call('allocate_hugepages', { ...params, hugepages_requested: -1 });
      expect(removed).to.include({ hugepages_requested: -1, allocation_successful: true, message: 'Removed recorded hugepage allocation' });
      const none = await d.call('allocate_hugepages', { ...params, hugepages_requested: -1 });
      expect(none.message).to.equal('No existing record to remove');
      expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
    });

    it('answers NUMA_NODE_NOT_FOUND and HUGEPAGE_SIZE_NOT_FOUND', async () => {
      const d = await start({ host: HUGEPAGES_SOME_NODES });
      const node = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 4, size_kb: 2048, hugepages_requested: 1 });
      expect([node.code, node.message]).to.deep.equal([-32003, 'NUMA node 4 not found']);
      expect(node.data).to.deep.include({ reason: 'NUMA_NODE_NOT_FOUND' });
      const size = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 0, size_kb: 4096, hugepages_requested: 1 });
      expect([size.code, size.message]).to.deep.equal([-32005, 'Hugepage size 4096 KB not found on node 0']);
      expect(size.data).to.deep.include({ reason: 'HUGEPAGE_SIZE_NOT_FOUND' });
      const noPages = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 1, size_kb: 2048, hugepages_requested: 1 });
      expect([noPages.code, noPages.message]).to.deep.equal([-32005, 'Hugepage size 2048 KB not found on node 1']);
    });

    it('refuses a count of 0 and a size of 0 as invalid params', async () => {
      const d = await start();
      const zero = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 0, size_kb: 2048, hugepages_requested: 0 });
      expect(zero.code).to.equal(-32602);
      expect((zero.data as { errors: { path: string }[] }).errors.map((e) => e.path)).to.deep.equal(['/hugepages_requested']);
      const size = await d.fail('allocate_hugepages', { service_name: 'vm', node_id: 0, size_kb: 0, hugepages_requested: 1 });
      expect((size.data as { errors: { path: string }[] }).errors.map((e) => e.path)).to.deep.equal(['/size_kb']);
    });
  });

  describe('release_service', () => {
    it('releases every CPU and reservation of the service, and nothing of others', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 2 });
      await d.call('allocate_numa_cores', { service_name: 'vm-a', numa_node: 1, num_of_cores: 2 });
      await d.call('allocate_hugepages', { service_name: 'vm-a', node_id: 1, size_kb: 2048, hugepages_requested: 8 });
      await d.call('allocate_hugepages', { service_name: 'vm-a', node_id: 0, size_kb: 1048576, hugepages_requested: 1 });
      await d.call('allocate_cores', { service_name: 'vm-b', num_of_cores: 2 });
      const released = await d.call('release_service', { service_name: 'vm-a' });
      expect(released).to.deep.include({
        service_name: 'vm-a',
        released_cores: '2,8,18,24',
        released_hugepages: [
          { node_id: 0, size_kb: 1048576, count: 1 },
          { node_id: 1, size_kb: 2048, count: 8 },
        ],
      });
      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => a.service_name)).to.deep.equal(['vm-b']);
      const unknown = await d.call('release_service', { service_name: 'never-seen' });
      expect(unknown).to.deep.include({ released_cores: '', released_hugepages: [] });
    });
  });

  describe('get_topology', () => {
    it('describes the pool, online CPUs and each node with its free CPUs, cores, hugepage sizes and L3 domains', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 4 });
      const topology = await d.call('get_topology');
      expect(topology.pool).to.equal('2-15,18-31');
      expect(topology.online).to.equal('0-31');
      expect(topology.reserved).to.equal('');
      // The sample host has no cache files: one L3 domain of every CPU per node.
      expect(topology.numa_nodes).to.deep.equal([
        {
          node_id: 0,
          cpus: '0-7,16-23',
          pool_cpus: '2-7,18-23',
          free_cpus: '4-7,20-23',
          cores: ['2,18', '3,19', '4,20', '5,21', '6,22', '7,23'],
          hugepage_sizes_kb: [2048, 1048576],
          l3_domains: ['0-7,16-23'],
        },
        {
          node_id: 1,
          cpus: '8-15,24-31',
          pool_cpus: '8-15,24-31',
          free_cpus: '8-15,24-31',
          cores: ['8,24', '9,25', '10,26', '11,27', '12,28', '13,29', '14,30', '15,31'],
          hugepage_sizes_kb: [2048, 1048576],
          l3_domains: ['8-15,24-31'],
        },
      ]);
    });

    it('lists the L3 domains read from the cache files, every CPU of each (pool or not)', async () => {
      const d = await start({ host: EPYC_LIKE });
      const topology = await d.call('get_topology');
      expect(topology.numa_nodes.map((node) => [node.pool_cpus, node.l3_domains])).to.deep.equal([
        ['1-15,33-47', ['0-3,32-35', '4-7,36-39', '8-11,40-43', '12-15,44-47']],
        ['17-31,49-63', ['16-19,48-51', '20-23,52-55', '24-27,56-59', '28-31,60-63']],
      ]);
    });
  });

  describe('rpc.discover', () => {
    it('answers the OpenRPC document of the API: its 12 methods and the notification it sends', async () => {
      const d = await start();
      const client = await d.client();
      const document = (await client.call('rpc.discover')) as { openrpc: string; methods: { name: string }[] };
      // The document is the one the schema tests validate against the OpenRPC meta-schema.
      expect(document).to.deep.equal(JSON.parse(JSON.stringify(buildOpenRpc())));
      expect(document.openrpc).to.equal('1.2.6');
      expect(document.methods.map((m) => m.name)).to.deep.equal([...METHOD_NAMES, ALLOCATION_CHANGED]);
      expect(document.methods).to.have.length(13);
    });
  });

  describe('faults', () => {
    it('answers STATE_WRITE_FAILED when the change cannot be made durable, and changes nothing', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'vm-a', num_of_cores: 2 });
      // A non-empty directory where the state file goes: the rename over it fails.
      await rm(d.stateFile);
      await mkdir(join(d.stateFile, 'blocker'), { recursive: true });
      const error = await d.fail('allocate_cores', { service_name: 'vm-b', num_of_cores: 2 });
      expect(error.code).to.equal(-32010);
      expect(error.data).to.deep.include({ reason: 'STATE_WRITE_FAILED' });
      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => a.service_name)).to.deep.equal(['vm-a']);
      await rm(d.stateFile, { recursive: true });
      await d.call('allocate_cores', { service_name: 'vm-b', num_of_cores: 2 });
      expect(await d.readState()).to.deep.include({
        allocations_db: { allocations: { 'vm-a': '2,18', 'vm-b': '3,19' }, explicit_allocations: {} },
      });
    });

    it('answers -32603 "Internal error" without details when sysfs cannot be read', async () => {
      const d = await start({ host: SAMPLE });
      const counter = join(d.sysfsPath, 'devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages');
      await rm(counter);
      await mkdir(counter);
      const error = await d.fail('get_memory_info');
      expect([error.code, error.message, error.data]).to.deep.equal([-32603, 'Internal error', undefined]);
      // Other methods are unaffected.
      expect((await d.call('get_topology')).pool).to.equal('2-15,18-31');
    });
  });
});
