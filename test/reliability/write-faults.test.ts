// Write faults (docs/architecture.md): the state file cannot be written (a full or read-only
// disk). Tests run as root, which ignores permissions, so the fault is injected under the real
// writer: the daemon runs in-process with a writer that fails on demand, before it touches the
// file (ENOSPC) or after the file was replaced (EIO from the dir fsync).
import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import type { FakeHost } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { callErr, callOk, daemonsPerTest, type TestDaemon } from '../support/daemon.js';
import { FaultyWriter } from '../support/faulty-writer.js';
import { ledgerViolations, listingViolations, readLedger } from './ledger-checks.js';
import { seedFromEnv, seededRandom } from './random.js';
import { AnswerCount, ServiceModel, WORKLOAD_HOST, WORKLOAD_POOL, describeState, emptyCounts, runClient, stateOf } from './workload.js';

describe('reliability: the state file cannot be written', function () {
  this.timeout(30_000);
  let d: TestDaemon;
  let writer: FaultyWriter;
  const start = daemonsPerTest();
  const faulty = async (host: FakeHost) => {
    writer = new FaultyWriter();
    d = await start({ host, writer });
  };

  const changes = [
    ['allocate_cores', { service_name: 'c', num_of_cores: 2 }],
    ['allocate_numa_cores', { service_name: 'a', numa_node: 0, num_of_cores: 3 }],
    ['allocate_hugepages', { service_name: 'b', node_id: 1, size_kb: 2048, hugepages_requested: 16 }],
    ['release_service', { service_name: 'a' }],
    ['allocate_cores', { service_name: 'b', num_of_cores: -1 }],
  ] as const;

  it('answers every change STATE_WRITE_FAILED (-32010), changes nothing in memory or on disk, and resumes when the fault clears', async () => {
    await faulty(SAMPLE);
    const client = await d.client();
    await callOk(client, 'allocate_cores', { service_name: 'a', num_of_cores: 4 });
    await callOk(client, 'allocate_numa_cores', { service_name: 'b', numa_node: 1, num_of_cores: 2 });
    await callOk(client, 'allocate_hugepages', { service_name: 'a', node_id: 0, size_kb: 2048, hugepages_requested: 8 });
    const listed = await callOk(client, 'list_allocations');
    const memory = await callOk(client, 'get_memory_info');
    const bytes = await readFile(d.stateFile);

    writer.failAt('open-temp', 'ENOSPC');
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

    writer.clear();
    for (const [method, params] of changes) await callOk(client, method, params);
    const after = await callOk(client, 'list_allocations');
    expect(after.allocations.map((a) => [a.service_name, a.cores_count, a.hugepages.length])).to.deep.equal([
      ['b', 0, 1],
      ['c', 2, 0],
    ]);
    await d.restart();
    expect(await callOk(await d.client(), 'list_allocations')).to.deep.equal(after);
  });

  it('after a write that failed past its rename, answers only once the file holds what was answered before', async () => {
    await faulty(SAMPLE);
    const client = await d.client();
    await callOk(client, 'allocate_cores', { service_name: 'a', num_of_cores: 4 });
    const listed = await callOk(client, 'list_allocations');

    // Once: the file is put back before the answer, which may then say "nothing was changed".
    writer.failAt('fsync-dir', 'EIO', 1);
    const once = await callErr(client, 'allocate_cores', { service_name: 'b', num_of_cores: 3 });
    expect([once.code, once.message, once.data]).to.deep.equal([
      -32010,
      'The change could not be saved (EIO); nothing was changed',
      { reason: 'STATE_WRITE_FAILED', disk_state: 'unchanged' },
    ]);
    const afterOnce = await readLedger(d.config.stateDir);
    if ('problem' in afterOnce) expect.fail(afterOnce.problem);
    expect(listingViolations(listed, afterOnce.ledger), 'a crash now would bring back nothing refused').to.deep.equal([]);

    // For good: the answer says the file may hold the change; reads go on, changes are refused.
    writer.failAt('fsync-dir', 'EIO');
    const stuck = await callErr(client, 'release_service', { service_name: 'a' });
    expect([stuck.code, stuck.data]).to.deep.equal([-32010, { reason: 'STATE_WRITE_FAILED', disk_state: 'uncertain' }]);
    expect((await callErr(client, 'allocate_cores', { service_name: 'c', num_of_cores: 1 })).data).to.deep.include({ disk_state: 'uncertain' });
    expect(await callOk(client, 'list_allocations')).to.deep.equal(listed);

    // The disk works again: the next change is saved, and the file holds what was answered.
    writer.clear();
    await callOk(client, 'allocate_hugepages', { service_name: 'c', node_id: 0, size_kb: 2048, hugepages_requested: 1 });
    const fixed = await readLedger(d.config.stateDir);
    if ('problem' in fixed) expect.fail(fixed.problem);
    expect(listingViolations(await callOk(client, 'list_allocations'), fixed.ledger)).to.deep.equal([]);
    expect(fixed.ledger.get('a')?.cpus.size, 'the refused release did not happen').to.equal(4);
    await d.restart();
    expect((await callOk(await d.client(), 'list_allocations')).allocations.map((a) => a.service_name)).to.deep.equal(['a', 'c']);
  });

  it('under 8 clients while the disk fails on and off, keeps every answered change and none of the refused ones', async () => {
    const seed = seedFromEnv();
    const rng = seededRandom(seed);
    await faulty(WORKLOAD_HOST);
    const models = Array.from({ length: 8 }, (_, i) => new ServiceModel(`svc-${i}`));
    const counts = emptyCounts();
    const problems: string[] = [];
    let stopped = false;
    const clients = await Promise.all(models.map(() => d.client()));
    const answers = new AnswerCount();
    const loops = models.map((model, i) =>
      runClient(clients[i]!, model, seededRandom(rng.int(0, 2 ** 32 - 1)), () => stopped, counts, problems, () => answers.add()),
    );
    // Settles after n more answers, or at once when every client has stopped (a problem ends one).
    const running = Promise.all(loops);
    const answered = (n: number) => Promise.race([answers.after(n), running]);
    // The disk fails or works for a random number of answered changes at a time: steps counted
    // in answers, not in ms, so a slow machine runs the same scenario as a fast one.
    for (let step = 0; step < 60; step++) {
      if (rng.next() < 0.4) writer.failAt('open-temp', 'ENOSPC');
      else writer.clear();
      await answered(rng.int(1, 8));
    }
    writer.clear();
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
