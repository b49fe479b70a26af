// allocation_changed on a real socket: a subscribed connection is told of every change once it is
// durable, one notification per changed service, in commit order, with the cause; a preempted
// service's subscriber learns that its CPUs were taken; unsubscribe stops them; a subscriber that
// does not read is dropped once 1 MiB waits for it, and nobody else waits on it.
// On the sample host: pool 2-15,18-31, node 0 = 0-7,16-23, cpu i and i+16 siblings.
import { expect } from 'chai';
import { ALLOCATION_CHANGED, type AllocationChangedParams } from '../../schema/index.js';
import { ManualClock } from '../support/clock.js';
import { checked, daemonsPerTest } from '../support/daemon.js';
import { FaultyWriter } from '../support/faulty-writer.js';
import type { LineClient } from '../support/line-client.js';
import { capturingLogger } from '../support/log.js';

interface Notification {
  readonly jsonrpc: string;
  readonly method: string;
  readonly params: AllocationChangedParams;
  readonly id?: unknown;
}

const request = (id: number, method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method, params });

/** Subscribes a raw connection; its next lines are notifications (and replies it asks for). */
async function subscribed(raw: LineClient): Promise<LineClient> {
  expect(await raw.roundTrip(request(0, 'subscribe'))).to.deep.equal({ jsonrpc: '2.0', id: 0, result: { subscribed: true } });
  return raw;
}

async function notification(raw: LineClient): Promise<AllocationChangedParams> {
  const message = (await raw.reply()) as Notification;
  expect(message).to.have.keys('jsonrpc', 'method', 'params');
  expect([message.jsonrpc, message.method]).to.deep.equal(['2.0', ALLOCATION_CHANGED]);
  return message.params;
}

describe('daemon: allocation_changed notifications', () => {
  const start = daemonsPerTest();

  it("tells a subscriber of another client's change, only once it is durable", async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer });
    const watcher = await subscribed(await d.raw());
    writer.hold();
    const answered = d.call('allocate_cores', { service_name: 'nova', num_of_cores: 4 });
    await writer.held();
    // Lines come in the order they are written: a notification sent now would come before this reply.
    expect(await watcher.roundTrip(request(1, 'get_topology'))).to.have.property('id', 1);
    writer.release();
    expect(await notification(watcher)).to.deep.equal({
      service_name: 'nova',
      pool: 'isolated',
      cores_before: '',
      cores_after: '2-3,18-19',
      hugepages_before: [],
      hugepages_after: [],
      cause: 'request',
    });
    expect(await d.readState(), 'on disk when told').to.have.nested.property('allocations_db.allocations.nova', '2-3,18-19');
    await answered;
  });

  it('tells the subscriber of a preempted service that its CPUs were taken, and by whose request', async () => {
    const d = await start();
    const victim = await subscribed(await d.raw());
    await d.call('allocate_cores', { service_name: 'vm', num_of_cores: 4 });
    expect(await notification(victim)).to.include({ service_name: 'vm', cores_after: '2-3,18-19', cause: 'request' });
    const ovs = await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: 12 });
    expect(ovs.preempted).to.deep.equal([{ service_name: 'vm', cores: '2-3,18-19' }]);
    const told = [await notification(victim), await notification(victim)];
    const byService = Object.fromEntries(told.map((n) => [n.service_name, n]));
    expect(Object.keys(byService).sort()).to.deep.equal(['ovs', 'vm']);
    expect(byService.ovs).to.include({ cores_before: '', cores_after: ovs.cores_allocated, cause: 'request' });
    const vm = checked('list_allocations', await d.call('list_allocations')).allocations.find((a) => a.service_name === 'vm');
    expect(byService.vm).to.deep.equal({
      service_name: 'vm',
      pool: 'isolated',
      cores_before: '2-3,18-19',
      cores_after: vm?.allocated_cores ?? '',
      hugepages_before: [],
      hugepages_after: [],
      cause: 'preempted',
    });
  });

  it('says "released" for release_service and carries the hugepages before and after', async () => {
    const d = await start();
    const watcher = await subscribed(await d.raw());
    await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 });
    expect(await notification(watcher)).to.deep.include({
      hugepages_before: [],
      hugepages_after: [{ node_id: 0, size_kb: 2048, count: 64 }],
      cause: 'request',
    });
    await d.call('release_service', { service_name: 'ovs' });
    expect(await notification(watcher)).to.deep.include({
      service_name: 'ovs',
      hugepages_before: [{ node_id: 0, size_kb: 2048, count: 64 }],
      hugepages_after: [],
      cause: 'released',
    });
  });

  it('sends nothing for a request that changes nothing', async () => {
    const d = await start();
    const watcher = await subscribed(await d.raw());
    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: -1 });
    await d.call('allocate_hugepages', { service_name: 'nova', node_id: 0, size_kb: 2048, hugepages_requested: -1 });
    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 });
    expect(await notification(watcher), 'the first notification is that of the first real change').to.include({ cores_after: '2,18' });
  });

  it('sends the changes in commit order: the changes of one client pipelined, each after the one before', async () => {
    const d = await start();
    const watcher = await subscribed(await d.raw());
    const changer = await d.raw();
    const requests = Array.from({ length: 40 }, (_, i) =>
      request(i + 1, 'allocate_hugepages', { service_name: `svc-${i % 3}`, node_id: i % 2, size_kb: 2048, hugepages_requested: 1 + (i % 7) }),
    );
    changer.write(requests.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await changer.lines(requests.length);
    const told: AllocationChangedParams[] = [];
    while (told.length < requests.length) told.push(await notification(watcher));
    // Each request set a count its service did not have yet on that node, so each one is a change.
    expect(told.map((n) => [n.service_name, n.hugepages_after.find((h) => h.node_id === requests[told.indexOf(n)]!.params.node_id)?.count])).to.deep.equal(
      requests.map((r) => [r.params.service_name, r.params.hugepages_requested]),
    );
    // And each service's "before" is its previous "after".
    const last = new Map<string, unknown>();
    for (const n of told) {
      expect(n.hugepages_before).to.deep.equal(last.get(n.service_name) ?? []);
      last.set(n.service_name, n.hugepages_after);
    }
  });

  it('keeps a subscribed connection open however long it stays quiet; once unsubscribed it may time out', async () => {
    const clock = new ManualClock();
    const d = await start({ clock, config: { idleTimeoutMs: 500 } });
    const watcher = await subscribed(await d.raw());
    const idle = await d.raw();
    expect(clock.armed(500), 'an idle timer for the plain connection only').to.equal(1);
    clock.advance(500);
    await idle.closed;
    expect(await watcher.roundTrip(request(1, 'unsubscribe'))).to.have.property('id', 1);
    await clock.whenArmed(500);
    clock.advance(500);
    await watcher.closed;
  });

  it('stops after unsubscribe, and refuses subscribe in the one-shot protocol', async () => {
    const d = await start();
    const watcher = await subscribed(await d.raw());
    expect(await watcher.roundTrip(request(1, 'unsubscribe'))).to.deep.equal({ jsonrpc: '2.0', id: 1, result: { subscribed: false } });
    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 });
    // The change was durable and answered before this request was sent: a notification would come first.
    expect(await watcher.roundTrip(request(2, 'get_topology'))).to.have.property('id', 2);
    const oneShot = await d.raw();
    oneShot.write('{"version":"1.0","action":"subscribe"}');
    expect(await oneShot.rest()).to.deep.equal({ lines: ['{"version":"1.0","error":"Unknown action: subscribe"}'], partial: '' });
  });

  it('drops a subscriber that does not read once 1 MiB waits for it, without holding anyone up', async function () {
    this.timeout(60_000);
    const log = capturingLogger();
    const d = await start({ logger: log.logger });
    const stuck = await subscribed(await d.raw());
    stuck.socket.pause();
    const reader = await subscribed(await d.raw());
    const changer = await d.raw();
    // Long service names make each notification about 400 bytes; a batch of 200 changes is one write.
    const names = Array.from({ length: 4 }, (_, i) => `${String(i)}${'s'.repeat(120)}`);
    let id = 0;
    let sent = 0;
    while (!stuck.isClosed && !log.lines().some((line) => /not reading what it subscribed to/.test(line))) {
      const batch = Array.from({ length: 200 }, () => {
        id++;
        // Each service's count flips on each of its requests: every request is a change.
        return request(id, 'allocate_hugepages', { service_name: names[id % 4], node_id: 0, size_kb: 2048, hugepages_requested: 1 + (Math.floor(id / 4) % 2) });
      });
      const replies = (await changer.roundTrip(batch)) as { result?: unknown }[];
      expect(replies.filter((r) => r.result === undefined)).to.deep.equal([]);
      sent += batch.length;
      // The subscriber that reads keeps up.
      expect((await reader.lines(batch.length)).length).to.equal(batch.length);
    }
    expect(sent, 'changes made before the drop').to.be.above(1000);
    stuck.socket.resume();
    const rest = await stuck.rest();
    const bytes = rest.lines.reduce((sum, line) => sum + line.length + 1, 0) + rest.partial.length;
    expect(bytes, 'what it had been sent before the drop').to.be.below(4 * 1024 * 1024);
    expect(rest.lines.length).to.be.below(sent);
    expect(await changer.roundTrip(request(0, 'get_topology'))).to.have.property('id', 0);
  });
});
