// Housekeeping CPUs (--reserved-cpus, EPA_RESERVED_CPUS, the snap option reserved-cpus; README,
// "Housekeeping CPUs"): no pool hands them out even when it lists them, CPUs already held stay
// with their owner as stale, get_topology and the start line name them, and a list that is not a
// cpulist makes every pool hand out nothing (a degraded start, as a bad --general-pool does for its
// pool). On the sample host: pool 2-15,18-31; node 0 = 0-7,16-23; cpu i and i+16 siblings.
import { expect } from 'chai';
import { EpaClient } from '../../src/client/index.js';
import { DaemonDirs, daemonsPerTest } from '../support/daemon.js';
import { capturingLogger } from '../support/log.js';
import { startCli, type RunOptions } from '../support/process.js';

const RESERVED = '2-3,18-19';

describe('daemon: reserved (housekeeping) CPUs', () => {
  const start = daemonsPerTest();

  it('never hands them out: 24 of the 28 pool CPUs are eligible, and allocations never get them', async () => {
    const { logger, lines } = capturingLogger();
    const d = await start({ config: { reservedCpus: RESERVED }, logger });
    expect(lines().find((line) => line.includes(' serving on '))).to.include(`reserved CPUs "${RESERVED}" (never handed out), `);

    const listed = await d.call('list_allocations');
    expect(listed.total_available_cpus).to.equal(24);
    expect(listed.cpu_pool).to.deep.include({ configured_cpus: '2-15,18-31', eligible_cpus: '4-15,20-31', unavailable_reason: null });
    const topology = await d.call('get_topology');
    expect(topology.reserved).to.equal(RESERVED);
    expect(topology.pool, 'the pool as configured still lists them').to.equal('2-15,18-31');
    expect(topology.numa_nodes[0]!.free_cpus).to.equal('4-7,20-23');

    const refused = await d.fail('allocate_cores', { service_name: 'nova', num_of_cores: 28 });
    expect(refused.data).to.deep.include({ reason: 'INSUFFICIENT_CPUS', requested: 28, available: 24 });
    expect((await d.fail('allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: 9 })).data).to.deep.include({
      reason: 'INSUFFICIENT_CPUS',
    });
    expect(await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 24 })).to.include({
      allocated_cores: '4-15,20-31',
      total_available_cpus: 24,
      remaining_available_cpus: 0,
    });
  });

  it('keeps them out of a general pool that lists them too', async () => {
    const d = await start({ config: { reservedCpus: '0,16', generalPool: '0-1,16-17' } });
    expect((await d.call('list_allocations', { pool: 'general' })).cpu_pool).to.deep.include({ configured_cpus: '0-1,16-17', eligible_cpus: '1,17' });
    expect(await d.call('allocate_cores', { service_name: 'mon', num_of_cores: 2, pool: 'general' })).to.include({ allocated_cores: '1,17' });
    expect((await d.fail('allocate_cores', { service_name: 'mon', num_of_cores: 3, pool: 'general' })).data).to.deep.include({ available: 2 });
  });

  it('leaves a reserved CPU already held with its owner, listed as stale, until it is released; nobody else gets it', async () => {
    const stateFile = JSON.stringify({ version: 1, allocations_db: { allocations: { nova: '2,4' } }, hugepages_db: { allocations: {} } });
    const d = await start({ config: { reservedCpus: RESERVED }, stateFile });
    const nova = (await d.call('list_allocations')).allocations.find((a) => a.service_name === 'nova');
    expect(nova).to.deep.include({ allocated_cores: '2,4', stale_cores: '2' });
    expect((await d.call('list_allocations')).cpu_pool.unavailable_allocated_cpus).to.equal('2');

    // Every other eligible CPU goes to ovs; CPU 2 stays nova's.
    expect(await d.call('allocate_cores', { service_name: 'ovs', num_of_cores: 23 })).to.include({ allocated_cores: '5-15,20-31' });
    expect((await d.call('list_allocations')).allocations.find((a) => a.service_name === 'nova')?.allocated_cores).to.equal('2,4');
    expect(await d.call('release_service', { service_name: 'nova' })).to.include({ released_cores: '2,4' });
    expect(await d.call('allocate_cores', { service_name: 'ovs', num_of_cores: 24 })).to.include({ allocated_cores: '4-15,20-31' });
  });

  it('a list that is not a cpulist: every pool hands out nothing and says why; reads and releases work', async () => {
    const { logger, lines } = capturingLogger();
    const d = await start({ config: { reservedCpus: '2-3,x', generalPool: '0-1,16-17' }, logger });
    const reason = 'the reserved CPUs setting (--reserved-cpus) is not a cpulist: invalid cpulist "2-3,x": bad item "x"';
    for (const pool of ['isolated', 'general']) {
      expect((await d.call('list_allocations', { pool })).cpu_pool).to.deep.include({ eligible_cpus: '', unavailable_reason: reason });
      expect((await d.fail('allocate_cores', { service_name: 'nova', num_of_cores: 1, pool })).data).to.deep.equal({
        reason: 'NO_ISOLATED_CPUS',
        unavailable_reason: reason,
      });
    }
    expect(lines()).to.include(`error pool isolated hands out no CPU until this is fixed (then SIGHUP): ${reason}`);
    expect(lines().find((line) => line.includes(' serving on ')), 'no reserved CPUs to name').to.not.include('reserved');
    expect((await d.call('get_topology')).reserved).to.equal('');
    expect(await d.call('release_service', { service_name: 'nova' })).to.include({ released_cores: '' });
  });

  describe('from the command line', function () {
    this.timeout(30_000);
    let dirs: DaemonDirs;
    beforeEach(async () => (dirs = await DaemonDirs.create()));
    afterEach(async () => dirs.cleanup());

    /** `serve` on the sample host with `flags` and `env`: what get_topology says of the reserved CPUs, and the start line. */
    async function served(flags: string[], env: RunOptions['env'] = {}): Promise<{ reserved: string; started: string }> {
      const daemon = startCli(dirs.serveArgs(flags), { env: { EPA_RESERVED_CPUS: undefined, ...env } });
      try {
        const started = await daemon.saysOnStderr(/ serving on .*/);
        const client = await EpaClient.connect(dirs.socket);
        try {
          return { reserved: (await client.get_topology()).reserved, started };
        } finally {
          client.close();
        }
      } finally {
        await daemon.stop();
      }
    }

    // EPA_RESERVED_CPUS alone is parsed as the flag is (test/unit/cli-program.test.ts).
    it('--reserved-cpus LIST, winning over EPA_RESERVED_CPUS', async () => {
      const flag = await served(['--reserved-cpus', RESERVED], { EPA_RESERVED_CPUS: '0,16' });
      expect(flag.reserved).to.equal(RESERVED);
      expect(flag.started).to.include(`reserved CPUs "${RESERVED}"`);
    });
  });
});
