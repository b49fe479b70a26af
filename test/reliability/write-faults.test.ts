// Write faults (SPEC section 8): the state file cannot be written (a full or read-only disk). Tests
// run as root, which ignores permissions, so the fault is injected under the real writer: the
// daemon runs in-process with a writer that fails on demand, before it touches the disk (ENOSPC)
// or after the file was replaced (EIO from the dir fsync).
import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIMIT_DEFAULTS, type DaemonConfig } from '../../src/daemon/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { durableWriter, type StateWriter } from '../../src/state/index.js';
import { tempSysfs, type HostDescription, type TempSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { callErr, callOk, SocketClient } from '../integration/harness.js';
import { ledgerViolations, listingViolations, readLedger } from './ledger-checks.js';
import { seedFromEnv, seededRandom } from './random.js';
import { ServiceModel, WORKLOAD_HOST, WORKLOAD_POOL, describeState, emptyCounts, runClient, stateOf } from './workload.js';

type Fault = 'none' | 'before-write' | 'after-rename';

/** The real writer, failing on demand. */
class FaultyWriter implements StateWriter {
  fault: Fault = 'none';
  failures = 0;

  async write(dir: string, file: string, text: string): Promise<void> {
    if (this.fault === 'before-write') throw this.#error('ENOSPC', 'no space left on device');
    await durableWriter.write(dir, file, text);
    if (this.fault === 'after-rename') throw this.#error('EIO', 'i/o error');
  }

  #error(code: string, text: string): Error {
    this.failures++;
    return Object.assign(new Error(`${code}: ${text}, fsync`), { code });
  }
}

class FaultyDaemon {
  readonly writer = new FaultyWriter();
  #daemon: Daemon | undefined;
  readonly #clients: SocketClient[] = [];

  private constructor(
    readonly dir: string,
    private readonly sysfs: TempSysfs,
    readonly config: DaemonConfig,
  ) {}

  static async start(desc: HostDescription): Promise<FaultyDaemon> {
    const dir = await mkdtemp(join(tmpdir(), 'epa-faults-'));
    const sysfs = tempSysfs(desc);
    const config = { ...LIMIT_DEFAULTS, socket: join(dir, 'epa.sock'), stateDir: join(dir, 'state'), sysfs: sysfs.path };
    const d = new FaultyDaemon(dir, sysfs, config);
    await d.restart();
    return d;
  }

  get stateFile(): string {
    return join(this.config.stateDir, 'state.json');
  }

  async client(): Promise<SocketClient> {
    const client = await SocketClient.connect(this.config.socket);
    this.#clients.push(client);
    return client;
  }

  /** Stops (as on SIGTERM) and starts again on the same dirs, with the same faulty writer. */
  async restart(): Promise<void> {
    await this.#daemon?.stop();
    this.#daemon = await startDaemon(this.config, silentLogger(), { writer: this.writer });
  }

  async stop(): Promise<void> {
    await this.#daemon?.stop();
    this.#daemon = undefined;
  }

  async cleanup(): Promise<void> {
    for (const client of this.#clients) client.close();
    await this.stop();
    this.sysfs.cleanup();
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe('reliability: the state file cannot be written', function () {
  this.timeout(30_000);
  let d: FaultyDaemon;
  afterEach(async () => {
    await d.cleanup();
  });

  const changes = [
    ['allocate_cores', { service_name: 'c', num_of_cores: 2 }],
    ['allocate_numa_cores', { service_name: 'a', numa_node: 0, num_of_cores: 3 }],
    ['allocate_hugepages', { service_name: 'b', node_id: 1, size_kb: 2048, hugepages_requested: 16 }],
    ['release_service', { service_name: 'a' }],
    ['allocate_cores', { service_name: 'b', num_of_cores: -1 }],
  ] as const;

  it('answers every change STATE_WRITE_FAILED (-32010), changes nothing in memory or on disk, and resumes when the fault clears', async () => {
    d = await FaultyDaemon.start(SAMPLE);
    const client = await d.client();
    await callOk(client, 'allocate_cores', { service_name: 'a', num_of_cores: 4 });
    await callOk(client, 'allocate_numa_cores', { service_name: 'b', numa_node: 1, num_of_cores: 2 });
    await callOk(client, 'allocate_hugepages', { service_name: 'a', node_id: 0, size_kb: 2048, hugepages_requested: 8 });
    const listed = await callOk(client, 'list_allocations');
    const memory = await callOk(client, 'get_memory_info');
    const bytes = await readFile(d.stateFile);

    d.writer.fault = 'before-write';
    // Concurrent changes on several connections: some share a write, some queue behind it.
    const others = await Promise.all(changes.map(() => d.client()));
    const refused = await Promise.all(changes.map(([method, params], i) => callErr(others[i]!, method, params)));
    for (const error of refused) {
      expect(error.code).to.equal(-32010);
      expect(error.data).to.deep.include({ reason: 'STATE_WRITE_FAILED' });
      expect(error.message).to.equal('The change could not be saved (ENOSPC); nothing was changed');
    }
    expect(await callOk(client, 'list_allocations')).to.deep.equal(listed);
    expect(await callOk(client, 'get_memory_info')).to.deep.equal(memory);
    expect((await readFile(d.stateFile)).equals(bytes), 'the state file is unchanged').to.equal(true);
    expect((await readdir(d.config.stateDir)).sort()).to.deep.equal(['state.json', 'state.lock']);
    expect((await callOk(client, 'get_topology')).pool, 'reads are still served').to.equal('2-15,18-31');

    d.writer.fault = 'none';
    for (const [method, params] of changes) await callOk(client, method, params);
    const after = await callOk(client, 'list_allocations');
    expect(after.allocations.map((a) => [a.service_name, a.cores_count, a.hugepages.length])).to.deep.equal([
      ['b', 0, 1],
      ['c', 2, 0],
    ]);
    await d.restart();
    expect(await callOk(await d.client(), 'list_allocations')).to.deep.equal(after);
  });

  it('rolls back a change whose write failed after replacing the file, and puts the file right at the next write or at stop', async () => {
    d = await FaultyDaemon.start(SAMPLE);
    const client = await d.client();
    await callOk(client, 'allocate_cores', { service_name: 'a', num_of_cores: 4 });
    const listed = await callOk(client, 'list_allocations');

    d.writer.fault = 'after-rename';
    expect((await callErr(client, 'allocate_cores', { service_name: 'b', num_of_cores: 3 })).code).to.equal(-32010);
    expect(await callOk(client, 'list_allocations')).to.deep.equal(listed);
    d.writer.fault = 'none';
    await d.stop();
    const onDisk = await readLedger(d.config.stateDir);
    if ('problem' in onDisk) expect.fail(onDisk.problem);
    expect(listingViolations(listed, onDisk.ledger), 'at stop the file is rewritten to what was answered').to.deep.equal([]);

    await d.restart();
    const again = await d.client();
    expect(await callOk(again, 'list_allocations')).to.deep.equal(listed);
    d.writer.fault = 'after-rename';
    await callErr(again, 'release_service', { service_name: 'a' });
    d.writer.fault = 'none';
    await callOk(again, 'allocate_hugepages', { service_name: 'c', node_id: 0, size_kb: 2048, hugepages_requested: 1 });
    const fixed = await readLedger(d.config.stateDir);
    if ('problem' in fixed) expect.fail(fixed.problem);
    expect(listingViolations(await callOk(again, 'list_allocations'), fixed.ledger)).to.deep.equal([]);
    expect(fixed.ledger.get('a')?.cpus.size, 'the refused release did not happen').to.equal(4);
  });

  it('under 8 clients while the disk fails on and off, keeps every answered change and none of the refused ones', async () => {
    const seed = seedFromEnv();
    const rng = seededRandom(seed);
    d = await FaultyDaemon.start(WORKLOAD_HOST);
    const models = Array.from({ length: 8 }, (_, i) => new ServiceModel(`svc-${i}`));
    const counts = emptyCounts();
    const problems: string[] = [];
    let stopped = false;
    const clients = await Promise.all(models.map(() => d.client()));
    const loops = models.map((model, i) => runClient(clients[i]!, model, seededRandom(rng.int(0, 2 ** 32 - 1)), () => stopped, counts, problems));
    for (const end = Date.now() + 1500; Date.now() < end; ) {
      d.writer.fault = rng.next() < 0.4 ? 'before-write' : 'none';
      await sleep(rng.int(5, 40));
    }
    d.writer.fault = 'none';
    stopped = true;
    await Promise.all(loops);

    const context = `seed ${seed} (replay with EPA_TEST_SEED=${seed})`;
    expect(problems, context).to.deep.equal([]);
    expect(counts.acked, 'changes answered').to.be.above(50);
    expect(counts.writeFailed, 'changes refused by the fault').to.be.above(5);
    const onDisk = await readLedger(d.config.stateDir);
    if ('problem' in onDisk) expect.fail(onDisk.problem);
    expect(ledgerViolations(onDisk.ledger, WORKLOAD_POOL)).to.deep.equal([]);
    for (const model of models) {
      expect(describeState(stateOf(onDisk.ledger.get(model.name))), `${model.name}, ${context}`).to.equal(describeState(model.acked));
    }
    expect(listingViolations(await callOk(clients[0]!, 'list_allocations'), onDisk.ledger)).to.deep.equal([]);
  });
});
