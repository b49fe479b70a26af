// Order on one connection (docs/api.md, transport): each request sees the effect of every request sent
// before it on the same connection, pipelined or inside one batch; replies come in request order;
// no reply shows a state that is not yet durable; other connections are not held up by it. And
// the framing that pipelining relies on: values back to back with no newline, garbage at once.
import { expect } from 'chai';
import { FaultyWriter } from '../support/faulty-writer.js';
import { checked, daemonsPerTest } from '../support/daemon.js';

type Reply = { id: number; result?: Record<string, unknown>; error?: { code: number; message: string } };

const call = (id: number, method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method, params });
const line = (message: unknown) => `${JSON.stringify(message)}\n`;
const allocated = (reply: Reply) => (reply.result as { allocations: { service_name: string; allocated_cores: string }[] }).allocations;

describe('daemon: order of requests on one connection', () => {
  const start = daemonsPerTest();

  it('lists the CPUs of an allocate_cores sent just before, in the same write', async () => {
    const d = await start();
    const raw = await d.raw();
    raw.write(line(call(1, 'allocate_cores', { service_name: 'nova', num_of_cores: 2 })) + line(call(2, 'list_allocations')));
    const [first, second] = [(await raw.reply()) as Reply, (await raw.reply()) as Reply];
    expect([first.id, second.id]).to.deep.equal([1, 2]);
    expect(first.result).to.include({ allocated_cores: '2,18' });
    expect(allocated(second)).to.deep.equal([checked('list_allocations', second.result).allocations[0]]);
    expect(allocated(second).map((a) => [a.service_name, a.allocated_cores])).to.deep.equal([['nova', '2,18']]);
  });

  it('applies a batch in order: each entry sees the entries before it', async () => {
    const d = await start();
    const raw = await d.raw();
    raw.send([
      call(1, 'allocate_cores', { service_name: 'a', num_of_cores: 4 }),
      call(2, 'list_allocations'),
      call(3, 'allocate_hugepages', { service_name: 'a', node_id: 0, size_kb: 2048, hugepages_requested: 8 }),
      call(4, 'get_memory_info'),
      call(5, 'release_service', { service_name: 'a' }),
      call(6, 'list_allocations'),
    ]);
    const replies = (await raw.reply()) as Reply[];
    expect(replies.map((r) => r.id)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(allocated(replies[1]!).map((a) => a.allocated_cores)).to.deep.equal(['2-3,18-19']);
    const memory = checked('get_memory_info', replies[3]!.result);
    expect(memory.numa_hugepages.node0?.allocations).to.deep.equal({ a: { '2048': 8 } });
    expect(replies[4]!.result).to.deep.include({ released_cores: '2-3,18-19' });
    expect(allocated(replies[5]!)).to.deep.equal([]);
  });

  it('answers a long pipeline of changes and reads as if each ran alone, in order', async () => {
    const d = await start();
    const raw = await d.raw();
    const counts = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7) % 12));
    raw.write(
      counts
        .map((count, i) => line(call(2 * i, 'allocate_cores', { service_name: 'vm', num_of_cores: count })) + line(call(2 * i + 1, 'list_allocations')))
        .join(''),
    );
    for (const [i, count] of counts.entries()) {
      const change = (await raw.reply()) as Reply;
      const read = (await raw.reply()) as Reply;
      expect([change.id, read.id]).to.deep.equal([2 * i, 2 * i + 1]);
      expect(change.result).to.include({ cores_allocated: count });
      expect(allocated(read)[0]?.allocated_cores, `read after request ${i}`).to.equal(change.result?.allocated_cores);
    }
  });

  it("holds a read behind its connection's change until that change is durable, and nobody else", async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer });
    const writing = await d.raw();
    const other = await d.raw();
    writer.hold();
    writing.write(line(call(1, 'allocate_cores', { service_name: 'nova', num_of_cores: 2 })) + line(call(2, 'list_allocations')));
    await writer.held();
    // Another connection is answered meanwhile, from the durable state: the change is not there yet.
    const meanwhile = (await other.roundTrip(call(3, 'list_allocations'))) as Reply;
    expect(allocated(meanwhile)).to.deep.equal([]);
    expect(writing.pending.lines, 'nothing answered on the writing connection before the write is durable').to.deep.equal([]);
    writer.release();
    expect(((await writing.reply()) as Reply).result).to.include({ allocated_cores: '2,18' });
    expect(allocated((await writing.reply()) as Reply).map((a) => a.service_name)).to.deep.equal(['nova']);
    expect(allocated((await other.roundTrip(call(4, 'list_allocations'))) as Reply).map((a) => a.service_name)).to.deep.equal(['nova']);
  });

  it('keeps a read behind the last change that was made, past a refused one', async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer });
    const raw = await d.raw();
    writer.hold();
    raw.write(
      line(call(1, 'allocate_cores', { service_name: 'nova', num_of_cores: 2 })) +
        line(call(2, 'allocate_cores', { service_name: 'nova', num_of_cores: 99 })) +
        line(call(3, 'list_allocations')),
    );
    await writer.held();
    writer.release();
    expect(((await raw.reply()) as Reply).id).to.equal(1);
    expect(((await raw.reply()) as Reply).error?.code).to.equal(-32002);
    expect(allocated((await raw.reply()) as Reply).map((a) => a.allocated_cores)).to.deep.equal(['2,18']);
  });

  it('shows no trace of a change whose write failed to the reads sent after it', async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer });
    const raw = await d.raw();
    writer.failAt('open-temp', 'ENOSPC');
    raw.write(line(call(1, 'allocate_cores', { service_name: 'nova', num_of_cores: 2 })) + line(call(2, 'list_allocations')));
    expect(((await raw.reply()) as Reply).error).to.deep.include({ code: -32010 });
    expect(allocated((await raw.reply()) as Reply)).to.deep.equal([]);
  });

  it('answers two requests written back to back with no newline, at once', async () => {
    const d = await start();
    const raw = await d.raw();
    raw.write(JSON.stringify(call(1, 'get_topology')) + JSON.stringify(call(2, 'list_allocations')));
    expect(((await raw.reply()) as Reply).id).to.equal(1);
    expect(((await raw.reply()) as Reply).id).to.equal(2);
  });

  it('answers bytes that cannot become JSON with a parse error at once, and goes on', async () => {
    const d = await start();
    const raw = await d.raw();
    raw.write('not json');
    expect(await raw.reply()).to.deep.equal({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    raw.write(' {"still": "the same bad line"}\n');
    expect(((await raw.roundTrip(call(5, 'get_topology'))) as Reply).id).to.equal(5);
  });
});
