// Topology changes under a running daemon: the pool in sysfs is
// rewritten and `serve`, in a child process, gets a real SIGHUP. CPUs that left the pool stay with
// their owners as stale and are never handed out; CPUs that joined it are; a re-read that fails
// leaves the pool with nothing to hand out until the next SIGHUP after the fix.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCpuList } from '../../src/cpuset/index.js';
import { fakeHost, writeSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { ChildDaemon } from '../support/child-daemon.js';
import { callErr, callOk, DaemonDirs, EpaClient } from '../support/daemon.js';

/** The sample host (2 nodes × 8 cores × 2 threads, cpu i and i+16 siblings) with another pool. */
const samplePool = (pool: string) => fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, pool });

describe('reliability: topology changes on SIGHUP to serve in a child process', function () {
  this.timeout(30_000);
  let dirs: DaemonDirs;
  let daemon: ChildDaemon;
  let client: EpaClient;
  let reloads = 0;

  before(async () => {
    dirs = await DaemonDirs.create(SAMPLE);
    daemon = ChildDaemon.start(dirs.serveArgs());
    await daemon.ready();
    client = await EpaClient.connect(dirs.socket);
  });
  after(async () => {
    client?.close();
    await daemon?.kill();
    await dirs?.cleanup();
  });

  /**
   * Sends SIGHUP and waits until the daemon says it reloaded (its "topology reloaded" line, one
   * more than before); then the daemon must serve the pool it names.
   */
  async function hangUp(pool: string): Promise<void> {
    reloads++;
    daemon.signal('SIGHUP');
    // From the start of the log, `reloads` reload lines, each one whole: the last is this SIGHUP's.
    const said = await daemon.process.saysOnStderr(new RegExp(`^(?:[^]*?topology reloaded: [^\\n]*\\n){${reloads}}`));
    const line = said.slice(said.lastIndexOf('topology reloaded: '));
    expect(line, daemon.stderr).to.match(new RegExp(`^topology reloaded: pool "${pool}"`));
    expect((await callOk(client, 'get_topology')).pool).to.equal(pool);
  }

  it('keeps CPUs that left the pool with their owners as stale, hands out none of them, and hands out CPUs that joined it', async () => {
    expect((await callOk(client, 'allocate_cores', { service_name: 'auto', num_of_cores: 4 })).allocated_cores).to.equal('2-3,18-19');
    expect((await callOk(client, 'allocate_numa_cores', { service_name: 'pinned', numa_node: 1, num_of_cores: 2 })).cores_allocated).to.equal('8,24');
    const stateFile = dirs.stateFile;
    const saved = await readFile(stateFile);

    // The host came back with cores 2, 3 and 8 no longer isolated.
    const shrunk = '4-7,9-15,20-23,25-31';
    writeSysfs(samplePool(shrunk), dirs.sysfs);
    await hangUp(shrunk);
    expect((await readFile(stateFile)).equals(saved), 'a reload writes nothing').to.equal(true);
    const listed = await callOk(client, 'list_allocations');
    expect(listed).to.include({ total_available_cpus: 22, remaining_available_cpus: 22 });
    expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores, a.stale_cores])).to.deep.equal([
      ['auto', '2-3,18-19', '2-3,18-19'],
      ['pinned', '8,24', '8,24'],
    ]);

    const greedy = await callOk(client, 'allocate_cores', { service_name: 'greedy', num_of_cores: 22 });
    expect(greedy.allocated_cores, 'all of the new pool, none of the stale CPUs').to.equal(shrunk);
    const more = await callErr(client, 'allocate_cores', { service_name: 'greedy', num_of_cores: 23 });
    expect(more.message).to.equal('Insufficient CPUs available. Requested: 23, Available: 22');
    // A NUMA request preempts an automatic allocation, never a stale CPU.
    const numa = await callOk(client, 'allocate_numa_cores', { service_name: 'numa', numa_node: 1, num_of_cores: 3 });
    expect(numa.preempted.map((p) => p.service_name)).to.deep.equal(['greedy']);
    expect(parseCpuList(numa.cores_allocated).isSubsetOf(parseCpuList(shrunk))).to.equal(true);
    const refused = await callErr(client, 'allocate_numa_cores', { service_name: 'other', numa_node: 1, num_of_cores: 12 });
    expect(refused.message, 'pinned and stale CPUs are not candidates').to.equal('NUMA node 1 only has 11 isolated CPUs, but 12 were requested');

    // The pool grows beyond where it started: cores 1 (CPUs 1 and 17) join it.
    writeSysfs(samplePool('1-15,17-31'), dirs.sysfs);
    await hangUp('1-15,17-31');
    const back = await callOk(client, 'list_allocations');
    expect(back.allocations.map((a) => [a.service_name, a.stale_cores])).to.deep.equal([
      ['auto', ''],
      ['greedy', ''],
      ['numa', ''],
      ['pinned', ''],
    ]);
    expect(back.remaining_available_cpus).to.equal(2);
    expect((await callOk(client, 'allocate_cores', { service_name: 'newbie', num_of_cores: 2 })).allocated_cores).to.equal('1,17');
  });

  it('a re-read that fails makes the pool hand out nothing but keeps every allocation; a SIGHUP after the fix restores it', async () => {
    const pool = (await callOk(client, 'get_topology')).pool;
    const held = (await callOk(client, 'list_allocations')).allocations.map((a) => [a.service_name, a.allocated_cores]);
    const isolated = join(dirs.sysfs, 'devices', 'system', 'cpu', 'isolated');
    const good = await readFile(isolated, 'utf8');
    await writeFile(isolated, 'banana\n');
    await hangUp('');
    expect(daemon.stderr, 'the reason is logged, naming the file').to.contain(`pool isolated hands out no CPU until this is fixed (then SIGHUP): ${isolated}`);
    const listed = await callOk(client, 'list_allocations');
    expect(listed.cpu_pool.unavailable_reason).to.equal(`${isolated}: invalid cpulist "banana": bad item "banana"`);
    expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores]), 'nothing held is dropped').to.deep.equal(held);
    const refused = await callErr(client, 'allocate_cores', { service_name: 'again', num_of_cores: 2 });
    expect([refused.code, refused.data]).to.deep.equal([-32001, { reason: 'NO_ISOLATED_CPUS', unavailable_reason: listed.cpu_pool.unavailable_reason }]);
    await callOk(client, 'release_service', { service_name: 'newbie' });

    await writeFile(isolated, good);
    await hangUp(pool);
    expect((await callOk(client, 'list_allocations')).cpu_pool.unavailable_reason).to.equal(null);
    expect((await callOk(client, 'allocate_cores', { service_name: 'again', num_of_cores: 2 })).allocated_cores).to.equal('1,17');
    expect(daemon.exit).to.equal(undefined);
  });
});
