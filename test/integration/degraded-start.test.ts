// A daemon that starts degraded rather than not at all (docs/architecture.md): a broken sysfs file or a
// bad general pool never stops the start. That pool hands out nothing, with the reason logged at
// error, in `cpu_pool.unavailable_reason` and in the NO_ISOLATED_CPUS answers; listings, topology,
// hugepages and every release keep working; nothing held is dropped; SIGHUP tries again.
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EPYC_LIKE } from '../fixtures/hosts.js';
import { daemonsPerTest, type TestDaemon } from '../support/daemon.js';
import { capturingLogger } from '../support/log.js';

/** On the sample host: nova holds automatic CPUs, ovs explicit ones and hugepages, ceph general ones. */
const STATE = JSON.stringify({
  version: 1,
  allocations_db: {
    allocations: { nova: '2-3,18-19', ovs: '8,24', ceph: '0,16' },
    explicit_allocations: { ovs: '8,24', ceph: '0,16' },
    allocation_pools: { ceph: 'general' },
    preemption_policies: { ceph: 'non-preemptive' },
  },
  hugepages_db: { allocations: { ovs: [{ node_id: 1, size_kb: 2048, count: 64 }] } },
});

describe('daemon: a degraded start', () => {
  const start = daemonsPerTest();

  /** The listings of both pools, as service → CPUs. */
  async function held(d: TestDaemon): Promise<Record<string, string>> {
    const lists = [await d.call('list_allocations'), await d.call('list_allocations', { pool: 'general' })];
    return Object.fromEntries(lists.flatMap((list) => list.allocations.map((a) => [a.service_name, a.allocated_cores])));
  }

  it('a malformed isolated file: the isolated pool hands out nothing, says why, keeps what is held, and heals on SIGHUP', async () => {
    const { logger, lines } = capturingLogger();
    const d = await start({ stateFile: STATE, config: { generalPool: '0-1,16-17' }, logger, breakSysfs: { 'devices/system/cpu/isolated': '2-15,oops\n' } });
    const isolated = join(d.sysfsPath, 'devices/system/cpu/isolated');
    const reason = `${isolated}: invalid cpulist "2-15,oops": bad item "oops"`;
    expect(lines()).to.include(`error pool isolated hands out no CPU until this is fixed (then SIGHUP): ${reason}`);

    const listed = await d.call('list_allocations');
    expect(listed.cpu_pool).to.deep.include({ eligible_cpus: '', unavailable_reason: reason });
    expect(listed.total_available_cpus).to.equal(0);
    expect(await held(d)).to.deep.equal({ nova: '2-3,18-19', ovs: '8,24', ceph: '0,16' });
    const refused = await d.fail('allocate_cores', { service_name: 'new', num_of_cores: 1 });
    expect([refused.code, refused.message, refused.data]).to.deep.equal([-32001, 'No CPUs available', { reason: 'NO_ISOLATED_CPUS', unavailable_reason: reason }]);
    expect((await d.fail('allocate_numa_cores', { service_name: 'new', numa_node: 0, num_of_cores: 1 })).data).to.deep.include({ unavailable_reason: reason });

    // The general pool is another pool: it still works.
    expect((await d.call('list_allocations', { pool: 'general' })).cpu_pool.unavailable_reason).to.equal(null);
    expect(await d.call('allocate_cores', { service_name: 'mon', num_of_cores: 1, pool: 'general' })).to.include({ allocated_cores: '1' });
    // Reads and releases work.
    expect((await d.call('get_topology')).numa_nodes).to.have.length(2);
    expect(Object.keys((await d.call('get_memory_info')).numa_hugepages)).to.deep.equal(['node0', 'node1']);
    expect(await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 1, num_of_cores: -1 })).to.include({ cores_allocated: '' });
    expect(await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 1, size_kb: 2048, hugepages_requested: -1 })).to.include({
      message: 'Removed recorded hugepage allocation',
    });

    await writeFile(isolated, '2-15,18-31\n');
    d.daemon.reload();
    expect((await d.call('list_allocations')).cpu_pool).to.deep.include({ eligible_cpus: '2-15,18-31', unavailable_reason: null });
    expect(await d.call('allocate_cores', { service_name: 'new', num_of_cores: 2 })).to.include({ allocated_cores: '4,20' });
  });

  it('a broken CPU topology file: every pool hands out nothing; full releases still work', async () => {
    const d = await start({ stateFile: STATE, config: { generalPool: '0-1,16-17' }, breakSysfs: { 'devices/system/node/node1/cpulist': '8-15,24-31,x\n' } });
    const isolated = await d.call('list_allocations');
    const general = await d.call('list_allocations', { pool: 'general' });
    for (const list of [isolated, general]) {
      expect(list.cpu_pool.eligible_cpus).to.equal('');
      expect(list.cpu_pool.unavailable_reason).to.match(/node1\/cpulist: invalid cpulist "8-15,24-31,x"/);
    }
    expect((await d.fail('allocate_cores', { service_name: 'mon', num_of_cores: 1, pool: 'general' })).code).to.equal(-32001);
    expect(await held(d)).to.deep.equal({ nova: '2-3,18-19', ovs: '8,24', ceph: '0,16' });
    expect(await d.call('release_service', { service_name: 'nova' })).to.include({ released_cores: '2-3,18-19' });
    expect(await d.call('allocate_cores', { service_name: 'ceph', num_of_cores: -1, pool: 'general' })).to.include({ allocated_cores: '' });
    expect(await held(d)).to.deep.equal({ ovs: '8,24' });
  });

  it('a general pool that is not a cpulist, or names CPUs the host lacks, hands out nothing; the isolated pool is not touched', async () => {
    for (const [generalPool, reason] of [
      ['0-1,junk', /^the general pool setting is not a cpulist: invalid cpulist "0-1,junk"/],
      ['0-1,40-41', /^the general pool 0-1,40-41 is unusable: CPUs 40-41 are not present on this host$/],
    ] as const) {
      const d = await start({ config: { generalPool } });
      expect((await d.call('list_allocations', { pool: 'general' })).cpu_pool.unavailable_reason).to.match(reason);
      expect((await d.fail('allocate_cores', { service_name: 'mon', num_of_cores: 1, pool: 'general' })).code).to.equal(-32001);
      expect(await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 })).to.include({ allocated_cores: '2,18' });
    }
  });

  it('a broken cache file only costs its CPU its L3 domain, with a warning: every pool still hands out CPUs', async () => {
    const { logger, lines } = capturingLogger();
    const broken = 'devices/system/cpu/cpu7/cache/index3/shared_cpu_list';
    const d = await start({ host: EPYC_LIKE, logger, breakSysfs: { [broken]: 'junk\n' } });
    expect((await d.call('list_allocations')).cpu_pool.unavailable_reason).to.equal(null);
    expect((await d.call('get_topology')).numa_nodes[0]!.l3_domains).to.deep.equal(['0-3,32-35', '4-6,36-39', '7', '8-11,40-43', '12-15,44-47']);
    expect(lines()).to.include(
      `warn L3 cache domains are read without 1 CPU(s) whose cache files are broken, first: ${join(d.sysfsPath, broken)}: invalid cpulist "junk": bad item "junk"`,
    );
  });

  it('still refuses to start on an invalid state file: that is what must not be guessed at', async () => {
    const error = await start({ stateFile: '{"version": 2}' }).then(
      () => expect.fail('the daemon started'),
      (e: unknown) => e as Error,
    );
    expect(error.message).to.match(/^Cannot use the state file .*state\.json: \/version must be 1$/);
  });
});
