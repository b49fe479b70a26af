// Policies and pools against the real daemon, over JSON-RPC and over the Python snap's one-shot
// protocol: preemption policies, the general pool (config `generalPool`, flag --general-pool),
// eligibility as the host's `online` file changes under the daemon, capability discovery, and
// the state file across a restart. Sample host: pool 2-15,18-31; node 0 = 0-7,16-23, node 1 =
// 8-15,24-31; cpu i and i+16 siblings. The general pool is the host's own CPUs 0-1,16-17.
import { expect } from 'chai';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeHost } from '../fixtures/host.js';
import { NO_ISOLATED } from '../fixtures/hosts.js';
import { ManualClock } from '../support/clock.js';
import { checked, daemonsPerTest, oneShot, TestDaemon, type TestDaemonOptions } from '../support/daemon.js';

const GENERAL = '0-1,16-17';
const FEATURES = ['non-preemptive-allocations', 'cpu-pools'];

/** Replaces the host's `online` file as the kernel would change it: whole, at once. */
async function setOnline(d: TestDaemon, cpus: string): Promise<void> {
  const path = join(d.sysfsPath, 'devices/system/cpu/online');
  await writeFile(`${path}.new`, `${cpus}\n`);
  await rename(`${path}.new`, path);
}

describe('daemon: protected allocations, pools and eligibility', () => {
  const start = daemonsPerTest();
  const withGeneral = (options: TestDaemonOptions = {}) => start({ ...options, config: { generalPool: GENERAL, ...options.config } });

  describe('start', () => {
    it('serves with a general pool that overlaps the default pool, handing out none of it and saying why', async () => {
      const d = await start({ config: { generalPool: '0-3,16-19' } });
      const general = await d.call('list_allocations', { pool: 'general' });
      expect(general.cpu_pool).to.deep.include({
        configured_cpus: '0-3,16-19',
        eligible_cpus: '',
        unavailable_reason: 'the general pool 0-3,16-19 is unusable: it overlaps the isolated pool on CPUs 2-3,18-19',
      });
      const refused = await d.fail('allocate_cores', { service_name: 'osd', num_of_cores: 1, pool: 'general' });
      expect([refused.code, refused.message, refused.data]).to.deep.equal([
        -32001,
        'No CPUs available',
        { reason: 'NO_ISOLATED_CPUS', unavailable_reason: general.cpu_pool.unavailable_reason },
      ]);
      // The isolated pool is not touched by it.
      expect(await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 2 })).to.include({ allocated_cores: '2,18' });
      expect((await d.call('list_allocations')).cpu_pool.unavailable_reason).to.equal(null);

      const againstCpuPool = await start({ config: { cpuPool: '4-7', generalPool: '0-4' } });
      expect((await againstCpuPool.call('list_allocations', { pool: 'general' })).cpu_pool.unavailable_reason).to.equal(
        'the general pool 0-4 is unusable: it overlaps the isolated pool on CPUs 4',
      );
    });
  });

  describe('preemption policy over JSON-RPC', () => {
    it('protects a service on request, refuses the downgrade, and drops the policy on full release', async () => {
      const d = await start();
      expect(await d.call('allocate_cores', { service_name: 'osd', num_of_cores: 2, preemption_policy: 'non-preemptive' })).to.deep.equal({
        service_name: 'osd',
        num_of_cores: 2,
        cores_allocated: 2,
        allocated_cores: '2,18',
        shared_cpus: '3-15,19-31',
        total_available_cpus: 28,
        remaining_available_cpus: 26,
        preemption_policy: 'non-preemptive',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      });
      // Omitted later: kept.
      const grown = await d.call('allocate_numa_cores', { service_name: 'osd', numa_node: 1, num_of_cores: 2 });
      expect(grown).to.deep.include({ cores_allocated: '8,24', preemption_policy: 'non-preemptive', pool: 'isolated' });

      // Its automatic CPUs on node 0 are not preempted by a legacy NUMA request.
      const short = await d.fail('allocate_numa_cores', { service_name: 'vm', numa_node: 0, num_of_cores: 12 });
      expect([short.code, short.message]).to.deep.equal([-32002, 'NUMA node 0 only has 10 isolated CPUs, but 12 were requested']);

      const conflict = await d.fail('allocate_cores', { service_name: 'osd', num_of_cores: 4, preemption_policy: 'legacy' });
      expect([conflict.code, conflict.message]).to.deep.equal([-32007, 'Fully release protected claims before selecting legacy policy']);
      expect(conflict.data).to.deep.include({ reason: 'POLICY_CONFLICT' });

      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores, a.preemption_policy, a.pool])).to.deep.equal([
        ['osd', '2,8,18,24', 'non-preemptive', 'isolated'],
      ]);

      const released = await d.call('allocate_cores', { service_name: 'osd', num_of_cores: -1 });
      expect(released).to.deep.include({ allocated_cores: '', preemption_policy: null });
      const fresh = await d.call('allocate_cores_percent', { service_name: 'osd', percent: 10, preemption_policy: 'legacy' });
      expect(fresh).to.deep.include({ cores_allocated_count: 3, preemption_policy: 'legacy', pool: 'isolated' });
    });

    it('a non-preemptive NUMA request takes no other service\'s CPUs', async () => {
      const d = await start();
      await d.call('allocate_cores', { service_name: 'auto', num_of_cores: 14 });
      const error = await d.fail('allocate_numa_cores', {
        service_name: 'osd',
        numa_node: 1,
        num_of_cores: 4,
        preemption_policy: 'non-preemptive',
      });
      expect(error.message).to.equal('NUMA node 1 only has 2 isolated CPUs, but 4 were requested');
      expect((await d.call('list_allocations')).allocations.map((a) => a.allocated_cores)).to.deep.equal(['8-14,24-30']);
    });

    it('rejects an unknown policy and a pool that is not a string as invalid params', async () => {
      const d = await start();
      const policy = await d.fail('allocate_cores', { service_name: 'svc', num_of_cores: 1, preemption_policy: 'preemptive' });
      expect(policy.code).to.equal(-32602);
      expect((policy.data as { errors: { path: string }[] }).errors.map((e) => e.path)).to.deep.equal(['/preemption_policy']);
      for (const method of ['allocate_cores', 'allocate_cores_percent', 'allocate_numa_cores', 'release_service', 'list_allocations']) {
        const params = { service_name: 'svc', num_of_cores: 1, percent: 10, numa_node: 0, pool: 5 };
        const error = await d.fail(method, params);
        expect(error.code, method).to.equal(-32602);
        expect((error.data as { errors: { path: string }[] }).errors.map((e) => e.path), method).to.include('/pool');
      }
    });
  });

  describe('pools over JSON-RPC', () => {
    it('serves the general pool on every method that names it, with its own totals and listing', async () => {
      const d = await withGeneral();
      await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 4 });
      expect(await d.call('allocate_cores', { service_name: 'osd', num_of_cores: 2, pool: 'general' })).to.deep.equal({
        service_name: 'osd',
        num_of_cores: 2,
        cores_allocated: 2,
        allocated_cores: '0,16',
        shared_cpus: '1,17',
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        preemption_policy: 'legacy',
        pool: 'general',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      });
      const numa = await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: 2, pool: 'general' });
      expect(numa).to.deep.include({ cores_allocated: '1,17', total_available_cpus: 4, remaining_available_cpus: 0, pool: 'general' });

      expect(await d.call('list_allocations', { pool: 'general' })).to.deep.equal({
        pool: 'general',
        total_allocations: 2,
        total_allocated_cpus: 4,
        total_available_cpus: 4,
        remaining_available_cpus: 0,
        allocations: [
          {
            service_name: 'osd',
            allocated_cores: '0,16',
            cores_count: 2,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [0],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            pool: 'general',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
          },
          {
            service_name: 'ovs',
            allocated_cores: '1,17',
            cores_count: 2,
            is_explicit: true,
            explicit_cores: '1,17',
            numa_nodes: [0],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            pool: 'general',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
          },
        ],
        supported_cpu_features: FEATURES,
        cpu_pool: { name: 'general', source: 'configured', configured_cpus: GENERAL, eligible_cpus: GENERAL, unavailable_allocated_cpus: '', unavailable_reason: null },
      });
      const isolated = await d.call('list_allocations');
      expect(isolated).to.deep.include({ total_allocations: 1, total_allocated_cpus: 4, total_available_cpus: 28, remaining_available_cpus: 24 });
      expect(isolated.cpu_pool.name).to.equal('isolated');

      // Exhausted: no borrowing from the isolated pool, which has 24 free CPUs.
      const exhausted = await d.fail('allocate_cores', { service_name: 'more', num_of_cores: 1, pool: 'general' });
      expect([exhausted.code, exhausted.message]).to.deep.equal([-32002, 'Insufficient CPUs available. Requested: 1, Available: 0']);

      // One pool per service; an omitted pool is the default one, never the service's.
      const conflict = await d.fail('release_service', { service_name: 'osd' });
      expect([conflict.code, conflict.message]).to.deep.equal([
        -32011,
        'The service holds CPUs in pool general; release that allocation in its pool first',
      ]);
      expect(conflict.data).to.deep.include({ reason: 'POOL_CONFLICT' });
      const other = await d.fail('allocate_cores_percent', { service_name: 'vm', percent: 50, pool: 'general' });
      expect(other.message).to.equal('The service holds CPUs in pool isolated; release that allocation in its pool first');
      const released = await d.call('release_service', { service_name: 'osd', pool: 'general' });
      expect(released).to.deep.include({ service_name: 'osd', released_cores: '0,16' });
      expect((await d.call('list_allocations', { pool: 'general' })).allocations.map((a) => a.service_name)).to.deep.equal(['ovs']);
    });

    it('answers POOL_NOT_FOUND for an unknown pool, and for general when it is not configured', async () => {
      const withPool = await withGeneral();
      const plain = await start();
      const cases: [TestDaemon, string][] = [
        [withPool, 'shared'],
        [plain, 'general'],
      ];
      for (const [d, pool] of cases) {
        for (const [method, params] of [
          ['allocate_cores', { service_name: 'svc', num_of_cores: 1, pool }],
          ['allocate_cores_percent', { service_name: 'svc', percent: 10, pool }],
          ['allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 1, pool }],
          ['release_service', { service_name: 'svc', pool }],
          ['list_allocations', { pool }],
        ] as const) {
          const error = await d.fail(method, params);
          expect([error.code, error.message], method).to.deep.equal([-32009, `CPU pool ${pool} does not exist or is not configured`]);
          expect(error.data).to.deep.include({ reason: 'POOL_NOT_FOUND' });
        }
      }
    });

    it('serves a general pool on a host without isolated CPUs', async () => {
      // NO_ISOLATED: 2 nodes × 4 cores × 2 threads, node 0 = 0-3,8-11 (cpu i and i+8 siblings).
      const d = await start({ host: NO_ISOLATED, config: { generalPool: '1-3,9-11' } });
      const osd = await d.call('allocate_cores', { service_name: 'osd', num_of_cores: 4, pool: 'general' });
      expect(osd).to.deep.include({ allocated_cores: '1-2,9-10', total_available_cpus: 6, remaining_available_cpus: 2 });
      const none = await d.fail('allocate_cores', { service_name: 'vm', num_of_cores: 1 });
      expect([none.code, none.message]).to.deep.equal([-32001, 'No CPUs available']);
      const isolated = await d.call('list_allocations');
      expect(isolated).to.deep.include({ total_allocations: 0, total_available_cpus: 0, supported_cpu_features: FEATURES });
      expect(isolated.cpu_pool).to.deep.equal({
        name: 'isolated',
        source: 'isolated',
        configured_cpus: '',
        eligible_cpus: '',
        unavailable_allocated_cpus: '',
        unavailable_reason: null,
      });
    });
  });

  describe('eligibility as CPUs go offline and return', () => {
    it('keeps offline CPUs with their owner, never hands them out, and gives them back when they return', async () => {
      const d = await withGeneral();
      await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 4 });
      await d.call('allocate_numa_cores', { service_name: 'osd', numa_node: 1, num_of_cores: 2, preemption_policy: 'non-preemptive' });

      await setOnline(d, '0-2,4-7,9-31');
      // A change reads `online` first: the protected osd may not lose its offline CPU 8.
      const unavailable = await d.fail('allocate_numa_cores', { service_name: 'osd', numa_node: 1, num_of_cores: 2 });
      expect([unavailable.code, unavailable.message]).to.deep.equal([
        -32008,
        'CPUs 8 of this protected allocation are no longer available; release them first',
      ]);
      expect(unavailable.data).to.deep.include({ reason: 'CPUS_UNAVAILABLE', cpus: '8' });
      const viaCores = await d.fail('allocate_cores', { service_name: 'osd', num_of_cores: 2 });
      expect(viaCores.code).to.equal(-32008);
      // On another node it may still grow; its CPUs on node 1 stay.
      const node0 = await d.call('allocate_numa_cores', { service_name: 'osd', numa_node: 0, num_of_cores: 2 });
      expect(node0).to.deep.include({ cores_allocated: '4,20', total_available_cpus: 26, remaining_available_cpus: 20 });

      const listed = await d.call('list_allocations');
      expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores, a.stale_cores])).to.deep.equal([
        ['osd', '4,8,20,24', '8'],
        ['vm', '2-3,18-19', '3'],
      ]);
      expect(listed).to.deep.include({ total_allocated_cpus: 8, total_available_cpus: 26, remaining_available_cpus: 20 });
      expect(listed.cpu_pool).to.deep.equal({
        name: 'isolated',
        source: 'isolated',
        configured_cpus: '2-15,18-31',
        eligible_cpus: '2,4-7,9-15,18-31',
        unavailable_allocated_cpus: '3,8',
        unavailable_reason: null,
      });
      expect((await d.call('get_topology')).online).to.equal('0-2,4-7,9-31');

      // Every free eligible CPU, and no more: offline ones are never handed out.
      const rest = await d.call('allocate_cores', { service_name: 'rest', num_of_cores: 20 });
      expect(rest).to.deep.include({ allocated_cores: '5-7,9-15,21-23,25-31', remaining_available_cpus: 0 });
      const more = await d.fail('allocate_cores', { service_name: 'rest', num_of_cores: 21 });
      expect(more.data).to.deep.include({ requested: 21, available: 20 });
      await d.call('release_service', { service_name: 'rest' });

      // Back online: the same owners, nothing stale, the protected service may ask again.
      await setOnline(d, '0-31');
      const again = await d.call('allocate_numa_cores', { service_name: 'osd', numa_node: 1, num_of_cores: 2 });
      expect(again).to.deep.include({ cores_allocated: '8,24', total_available_cpus: 28 });
      const back = await d.call('list_allocations');
      expect(back.allocations.map((a) => [a.service_name, a.allocated_cores, a.stale_cores])).to.deep.equal([
        ['osd', '4,8,20,24', ''],
        ['vm', '2-3,18-19', ''],
      ]);
      expect(back.cpu_pool.unavailable_allocated_cpus).to.equal('');

      // Offline again: the legacy vm asking again drops its offline CPU; the protected osd can release.
      await setOnline(d, '0-2,4-31');
      const vm = await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 4 });
      expect(vm).to.deep.include({ allocated_cores: '2,5,18-19', preemption_policy: 'legacy' });
      await setOnline(d, '0-7,9-31');
      const gone = await d.call('release_service', { service_name: 'osd' });
      expect(gone.released_cores).to.equal('4,8,20,24');
    });

    it('lets a read see a change of `online` within a second, without any change in between', async () => {
      const clock = new ManualClock();
      const d = await start({ clock });
      await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 2 });
      await setOnline(d, '0-1,3-31');
      const early = await d.call('list_allocations');
      expect(early, 'a read may use what was read a moment ago').to.deep.include({ total_available_cpus: 28 });
      clock.advance(1000);
      const listed = await d.call('list_allocations');
      expect(listed).to.deep.include({ total_available_cpus: 27, remaining_available_cpus: 26 });
      expect(listed.allocations[0]).to.deep.include({ allocated_cores: '2,18', stale_cores: '2' });
    });

    it('reports offline CPUs of the general pool, configured ones included', async () => {
      const d = await withGeneral({ host: fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool: '2-15,18-31', online: '0-15,17-31' }) });
      const listed = await d.call('list_allocations', { pool: 'general' });
      expect(listed.cpu_pool).to.deep.equal({
        name: 'general',
        source: 'configured',
        configured_cpus: GENERAL,
        eligible_cpus: '0-1,17',
        unavailable_allocated_cpus: '',
        unavailable_reason: null,
      });
      expect(listed).to.deep.include({ total_available_cpus: 3, allocations: [], supported_cpu_features: FEATURES });
    });
  });

  describe('capability discovery', () => {
    it('is in every list_allocations, on an empty pool too, with the pool as configured', async () => {
      const d = await start({ host: fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool: '2-15,18-31', online: '0-13,16-31' }) });
      const listed = await d.call('list_allocations', { service_name: 'older-client' });
      expect(listed).to.deep.equal({
        pool: 'isolated',
        total_allocations: 0,
        total_allocated_cpus: 0,
        total_available_cpus: 26,
        remaining_available_cpus: 26,
        allocations: [],
        supported_cpu_features: FEATURES,
        cpu_pool: {
          name: 'isolated',
          source: 'isolated',
          configured_cpus: '2-15,18-31',
          eligible_cpus: '2-13,18-31',
          unavailable_allocated_cpus: '',
          unavailable_reason: null,
        },
      });
    });

    it('says "configured" for a --cpu-pool default pool', async () => {
      const d = await start({ config: { cpuPool: '4-7' } });
      expect((await d.call('list_allocations')).cpu_pool).to.deep.equal({
        name: 'isolated',
        source: 'configured',
        configured_cpus: '4-7',
        eligible_cpus: '4-7',
        unavailable_allocated_cpus: '',
        unavailable_reason: null,
      });
    });
  });

  describe('the one-shot protocol', () => {
    it('takes pool and preemption_policy and answers the new fields, errors as {"version":"1.0","error":…}', async () => {
      const d = await withGeneral();
      const shot = (message: Record<string, unknown>) => oneShot(d.socketPath, { version: '1.0', ...message });

      const osd = await shot({ service_name: 'osd', action: 'allocate_cores', num_of_cores: 2, pool: 'general', preemption_policy: 'non-preemptive' });
      expect(osd).to.deep.equal({
        service_name: 'osd',
        num_of_cores: 2,
        cores_allocated: 2,
        allocated_cores: '0,16',
        shared_cpus: '1,17',
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        preemption_policy: 'non-preemptive',
        pool: 'general',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
        version: '1.0',
      });
      checked('allocate_cores', osd);
      const numa = await shot({
        service_name: 'dpdk',
        action: 'allocate_numa_cores',
        numa_node: 1,
        num_of_cores: 2,
        preemption_policy: 'non-preemptive',
      });
      expect(numa).to.deep.include({ cores_allocated: '8,24', preemption_policy: 'non-preemptive', pool: 'isolated', version: '1.0' });

      const listed = await shot({ service_name: 'osd', action: 'list_allocations', pool: 'general' });
      checked('list_allocations', listed);
      expect(listed).to.deep.include({
        version: '1.0',
        total_allocations: 1,
        supported_cpu_features: FEATURES,
        cpu_pool: { name: 'general', source: 'configured', configured_cpus: GENERAL, eligible_cpus: GENERAL, unavailable_allocated_cpus: '', unavailable_reason: null },
      });
      const isolated = await shot({ service_name: 'osd', action: 'list_allocations' });
      expect((isolated.allocations as { service_name: string }[]).map((a) => a.service_name)).to.deep.equal(['dpdk']);

      const errors: [Record<string, unknown>, string][] = [
        [
          { service_name: 'osd', action: 'allocate_cores', num_of_cores: 2, pool: 'general', preemption_policy: 'legacy' },
          'Fully release protected claims before selecting legacy policy',
        ],
        [
          { service_name: 'osd', action: 'allocate_cores', num_of_cores: 2 },
          'The service holds CPUs in pool general; release that allocation in its pool first',
        ],
        [{ service_name: 'osd', action: 'release_service' }, 'The service holds CPUs in pool general; release that allocation in its pool first'],
        [{ service_name: 'x', action: 'allocate_cores', num_of_cores: 1, pool: 'shared' }, 'CPU pool shared does not exist or is not configured'],
        [{ service_name: 'x', action: 'list_allocations', pool: 'shared' }, 'CPU pool shared does not exist or is not configured'],
      ];
      for (const [message, error] of errors) {
        expect(await shot(message), JSON.stringify(message)).to.deep.equal({ version: '1.0', error });
      }
      const invalid = await shot({ service_name: 'x', action: 'allocate_cores', num_of_cores: 1, preemption_policy: 'sometimes' });
      expect(invalid.error).to.be.a('string').and.to.match(/^Invalid params: \/preemption_policy /);

      await setOnline(d, '0-7,9-31');
      expect(await shot({ service_name: 'dpdk', action: 'allocate_numa_cores', numa_node: 1, num_of_cores: 2 })).to.deep.equal({
        version: '1.0',
        error: 'CPUs 8 of this protected allocation are no longer available; release them first',
      });
      const released = await shot({ service_name: 'osd', action: 'release_service', pool: 'general' });
      expect(released).to.deep.include({ released_cores: '0,16', version: '1.0' });
    });
  });

  describe('state', () => {
    it('keeps policies and pools in the state file and across a restart', async () => {
      const d = await withGeneral();
      await d.call('allocate_cores', { service_name: 'osd', num_of_cores: 2, pool: 'general', preemption_policy: 'non-preemptive' });
      await d.call('allocate_numa_cores', { service_name: 'pinned', numa_node: 1, num_of_cores: 2, preemption_policy: 'non-preemptive' });
      await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 2 });
      expect(await d.readState()).to.deep.include({
        allocations_db: {
          allocation_pools: { osd: 'general' },
          allocations: { osd: '0,16', pinned: '8,24', vm: '2,18' },
          explicit_allocations: { pinned: '8,24' },
          preemption_policies: { osd: 'non-preemptive', pinned: 'non-preemptive' },
        },
      });

      await d.restart();
      const general = await d.call('list_allocations', { pool: 'general' });
      expect(general.allocations.map((a) => [a.service_name, a.allocated_cores, a.preemption_policy, a.pool])).to.deep.equal([
        ['osd', '0,16', 'non-preemptive', 'general'],
      ]);
      const conflict = await d.fail('allocate_cores', { service_name: 'pinned', num_of_cores: 2, preemption_policy: 'legacy' });
      expect(conflict.code).to.equal(-32007);
      const short = await d.fail('allocate_numa_cores', { service_name: 'vm', numa_node: 1, num_of_cores: 16 });
      expect(short.message).to.equal('NUMA node 1 only has 14 isolated CPUs, but 16 were requested');
    });
  });
});
