// `epa-orchestrator check-pool LIST`: what the snap's configure hook asks before
// snapd commits `cpu-pool`. It refuses, with exit 1 and "Invalid cpu-pool configuration: …", a pool
// naming CPUs the host lacks, overlapping the isolated pool, or leaving out CPUs that general-pool
// services hold (offline ones included); it reads the same --sysfs / --state-dir as serve, works
// beside a running daemon, and never changes the state file.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeHost } from '../fixtures/host.js';
import { checkPool } from '../../src/cli/commands/check-pool.js';
import { CliError } from '../../src/cli/errors.js';
import { daemonsPerTest, type TestDaemon } from '../support/daemon.js';
import { runCli } from '../support/process.js';

/** The sample host: 2 nodes × 8 cores × 2 threads (cpu i and i+16 siblings), isolated 2-15,18-31. */
const HOST = fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool: '2-15,18-31' });

describe('check-pool', () => {
  const start = daemonsPerTest();
  let d: TestDaemon;

  /** The command's action, run here: exit 0 and nothing said, or exit 1 with the message. */
  const check = (pool: string, cpuPool?: string, stateDir = d.config.stateDir) =>
    checkPool({ pool, sysfs: d.sysfsPath, stateDir, ...(cpuPool === undefined ? {} : { cpuPool }) }).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => {
        if (!(error instanceof CliError)) throw error;
        return { code: error.exitCode, stderr: `epa-orchestrator: ${error.message}\n` };
      },
    );

  beforeEach(async () => {
    d = await start({ host: HOST, config: { generalPool: '0-1,16-17' } });
    // A protected general-pool service holding core 0 (CPUs 0 and 16).
    await d.call('allocate_numa_cores', { service_name: 'ceph-osd.0', numa_node: 0, num_of_cores: 2, pool: 'general', preemption_policy: 'non-preemptive' });
    expect((await d.call('list_allocations', { pool: 'general' })).allocations[0]?.allocated_cores).to.equal('0,16');
  });

  it('accepts a pool that keeps what general-pool services hold, and changes nothing', async () => {
    const before = await readFile(d.stateFile);
    for (const pool of ['0-1,16-17', '0,16', ' 0,16 ']) {
      const result = await check(pool);
      expect([result.code, result.stderr], pool).to.deep.equal([0, '']);
    }
    expect((await readFile(d.stateFile)).equals(before)).to.equal(true);
  });

  it('refuses CPUs the host does not have: exit 1, the reason on stderr', async () => {
    // The command as the hook runs it, once: exit code and message.
    const result = await runCli(['check-pool', '0-1,16-17,60-63', '--sysfs', d.sysfsPath, '--state-dir', d.config.stateDir]);
    expect([result.code, result.stdout]).to.deep.equal([1, '']);
    expect(result.stderr).to.equal('epa-orchestrator: Invalid cpu-pool configuration: CPUs 60-63 are not present on this host\n');
    expect(await check('0-1,16-17,60-63')).to.deep.equal({ code: 1, stderr: result.stderr });
  });

  it('refuses a pool that overlaps the isolated one, naming the CPUs, the isolated pool being --cpu-pool when given', async () => {
    const flag = await check('0-5,16-17', '4-15,20-31');
    expect(flag.code).to.equal(1);
    expect(flag.stderr).to.contain('Invalid cpu-pool configuration: it overlaps the isolated pool on CPUs 4-5');
    // Against the kernel's isolated list (2-15,18-31) the overlap is larger.
    expect((await check('0-5,16-17')).stderr).to.contain('it overlaps the isolated pool on CPUs 2-5');
  });

  it('refuses a pool that leaves out CPUs general-pool services hold, or no pool at all while they hold some', async () => {
    const smaller = await check('1,17');
    expect(smaller.code).to.equal(1);
    expect(smaller.stderr).to.contain('Invalid cpu-pool configuration: it leaves out CPUs 0,16, held in the general pool by ceph-osd.0; release them first');
    // A held CPU that went offline is held all the same.
    await writeFile(join(d.sysfsPath, 'devices/system/cpu/online'), '0-15,17-31\n');
    expect((await check('0-1,17')).stderr).to.contain('it leaves out CPUs 16, held in the general pool by ceph-osd.0');
    for (const none of ['isolated', '']) {
      const result = await check(none);
      expect(result.code, JSON.stringify(none)).to.equal(1);
      expect(result.stderr).to.contain('it leaves out CPUs 0,16');
    }
    await d.call('release_service', { service_name: 'ceph-osd.0', pool: 'general' });
    expect((await check('isolated')).code).to.equal(0);
    expect((await check('')).code).to.equal(0);
  });

  it('refuses what is not a cpulist, and says why it cannot check a broken host or state file', async () => {
    const junk = await check('0-3,x');
    expect(junk.code).to.equal(1);
    expect(junk.stderr).to.contain('Invalid cpu-pool configuration: "0-3,x" is not a cpulist or "isolated"');
    const missing = await check('0-1', undefined, join(d.dir, 'no-such-dir'));
    expect(missing.code, 'no state file is an empty ledger').to.equal(0);
    await writeFile(d.stateFile, '{"version":1,');
    expect((await check('0-1')).stderr).to.match(/Invalid cpu-pool configuration: it cannot be checked: Cannot use the state file .*state\.json: it is not valid JSON/);
  });
});
