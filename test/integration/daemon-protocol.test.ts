// The JSON-RPC envelope and the transport (docs/api.md) on a real daemon: invalid
// params, unknown methods, malformed requests, batches and notifications, pipelining, and the
// framing limits (size, garbage, invalid UTF-8, silent clients).
import { expect } from 'chai';
import type { MethodName } from '../../schema/index.js';
import { checked, TestDaemon } from '../support/daemon.js';
import type { LineClient } from '../support/line-client.js';

interface ErrorReply {
  jsonrpc: '2.0';
  id: unknown;
  error: { code: number; message: string; data?: { errors?: { path: string; message: string }[] } };
}

const request = (id: number, method: string, params?: unknown) =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };

const MAX_MESSAGE_BYTES = 4096;

describe('daemon over JSON-RPC: protocol', () => {
  let d: TestDaemon;
  let raw: LineClient;

  before(async () => {
    d = await TestDaemon.start({ config: { maxMessageBytes: MAX_MESSAGE_BYTES } });
  });
  after(async () => {
    await d.cleanup();
  });
  beforeEach(async () => {
    raw = await d.raw();
  });
  afterEach(() => {
    raw.close();
  });

  /** Sends one request that must fail with -32602 and returns the paths of its issues. */
  async function invalidParamPaths(method: string, params: unknown): Promise<string[]> {
    const reply = (await raw.roundTrip(request(7, method, params))) as ErrorReply;
    expect(reply.id).to.equal(7);
    expect(reply.error.code).to.equal(-32602);
    expect(reply.error.message).to.equal('Invalid params');
    return (reply.error.data?.errors ?? []).map((e) => e.path);
  }

  describe('invalid params (-32602)', () => {
    it('names a missing field', async () => {
      expect(await invalidParamPaths('allocate_cores', { service_name: 'vm' })).to.deep.equal(['/num_of_cores']);
      const reply = (await raw.roundTrip(request(1, 'release_service', {}))) as ErrorReply;
      expect(reply.error.data?.errors).to.deep.equal([{ path: '/service_name', message: 'is required' }]);
    });

    it('names a field of the wrong type, without coercing it', async () => {
      expect(await invalidParamPaths('allocate_cores', { service_name: 'vm', num_of_cores: '4' })).to.deep.equal(['/num_of_cores']);
      expect(await invalidParamPaths('allocate_cores', { service_name: 'vm', num_of_cores: 1.5 })).to.deep.equal(['/num_of_cores']);
      expect(await invalidParamPaths('allocate_hugepages', { service_name: 7, node_id: -1, size_kb: 2048, hugepages_requested: 1 }))
        .to.have.members(['/service_name', '/node_id']);
      expect(await invalidParamPaths('allocate_cores', { service_name: 'vm', num_of_cores: -2 })).to.deep.equal(['/num_of_cores']);
    });

    it('names an unknown extra param', async () => {
      const reply = (await raw.roundTrip(request(1, 'allocate_cores', { service_name: 'vm', num_of_cores: 1, numa: 0 }))) as ErrorReply;
      expect(reply.error.code).to.equal(-32602);
      expect(reply.error.data?.errors).to.deep.equal([{ path: '/numa', message: 'is not a known parameter' }]);
      expect(await invalidParamPaths('get_topology', { service_name: 'vm' })).to.deep.equal(['/service_name']);
      // Members that name Object.prototype properties are plain unknown params.
      const proto = '{"jsonrpc":"2.0","id":8,"method":"allocate_cores","params":{"service_name":"vm","num_of_cores":1,"__proto__":{"x":1},"constructor":2}}';
      raw.write(`${proto}\n`);
      expect(((await raw.reply()) as ErrorReply).error.data?.errors?.map((e) => e.path)).to.have.members(['/__proto__', '/constructor']);
    });

    it('refuses a service name outside 1–128 chars of [A-Za-z0-9._@:+-] starting alphanumeric', async () => {
      for (const name of ['', '-vm', '.vm', 'vm a', 'vm/a', 'vm\n', 'x'.repeat(129), 'é']) {
        const paths = await invalidParamPaths('release_service', { service_name: name });
        expect([...new Set(paths)], JSON.stringify(name)).to.deep.equal(['/service_name']);
      }
      const ok = await d.call('release_service', { service_name: `A9._@:+-${'x'.repeat(120)}` });
      expect(ok.service_name).to.have.length(128);
    });

    it('refuses params given as an array (by position)', async () => {
      expect(await invalidParamPaths('allocate_cores', ['vm', 4])).to.deep.equal(['']);
    });

    it('changes nothing on a refused call', async () => {
      await invalidParamPaths('allocate_cores', { service_name: 'vm', num_of_cores: 4, extra: true });
      expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
    });
  });

  describe('method not found (-32601)', () => {
    for (const method of ['no_such_method', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'rpc.other']) {
      it(`answers -32601 for ${JSON.stringify(method)}`, async () => {
        expect(await raw.roundTrip(request(3, method, {}))).to.deep.equal({
          jsonrpc: '2.0',
          id: 3,
          error: { code: -32601, message: 'Method not found' },
        });
      });
    }
  });

  describe('invalid request (-32600) and parse error (-32700)', () => {
    const invalid = { code: -32600, message: 'Invalid Request' };

    it('answers -32600 for an object that is not a request', async () => {
      expect(await raw.roundTrip({})).to.deep.equal({ jsonrpc: '2.0', id: null, error: invalid });
      expect(await raw.roundTrip({ jsonrpc: '1.0', id: 4, method: 'get_topology' })).to.deep.equal({ jsonrpc: '2.0', id: 4, error: invalid });
      expect(await raw.roundTrip({ jsonrpc: '2.0', id: 5, method: 42 })).to.deep.equal({ jsonrpc: '2.0', id: 5, error: invalid });
      expect(await raw.roundTrip({ jsonrpc: '2.0', id: { no: 1 }, method: 'get_topology' })).to.deep.equal({
        jsonrpc: '2.0',
        id: null,
        error: invalid,
      });
    });

    it('answers an empty batch with one -32600 object', async () => {
      expect(await raw.roundTrip([])).to.deep.equal({ jsonrpc: '2.0', id: null, error: invalid });
    });

    it('answers a batch of one entry with an array of one reply, good or bad', async () => {
      expect(await raw.roundTrip([1])).to.deep.equal([{ jsonrpc: '2.0', id: null, error: invalid }]);
      const [one, ...rest] = (await raw.roundTrip([request(2, 'get_topology')])) as { id: number; result: unknown }[];
      expect([one?.id, rest]).to.deep.equal([2, []]);
      expect(checked('get_topology', one?.result).online).to.equal('0-31');
    });

    it('answers a JSON scalar or null with -32600', async () => {
      for (const text of ['42', 'null', '"get_topology"', 'true']) {
        raw.write(`${text}\n`);
        expect(await raw.reply(), text).to.deep.equal({ jsonrpc: '2.0', id: null, error: invalid });
      }
    });

    it('answers params that are not a structured value (null, a string) with -32600', async () => {
      for (const params of [null, 'x', 3]) {
        expect(await raw.roundTrip({ jsonrpc: '2.0', id: 6, method: 'get_topology', params }), JSON.stringify(params)).to.deep.equal({
          jsonrpc: '2.0',
          id: 6,
          error: invalid,
        });
      }
    });

    it('answers garbage with -32700 and keeps the connection usable', async () => {
      raw.write('this is not json\n');
      expect(await raw.reply()).to.deep.equal({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      raw.write('{"jsonrpc":"2.0","id":1,"method":"get_topology",}\n');
      expect(((await raw.reply()) as ErrorReply).error.code).to.equal(-32700);
      const reply = (await raw.roundTrip(request(2, 'get_topology'))) as { id: number; result: unknown };
      expect(reply.id).to.equal(2);
      expect(checked('get_topology', reply.result).pool).to.equal('2-15,18-31');
    });

    it('answers invalid UTF-8 inside a string with -32700, and stays up', async () => {
      const head = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"release_service","params":{"service_name":"a');
      const tail = Buffer.from('"}}\n');
      raw.write(Buffer.concat([head, Buffer.from([0xff, 0xfe]), tail]));
      const reply = (await raw.reply()) as ErrorReply;
      expect(reply.id).to.equal(null);
      expect(reply.error.code).to.equal(-32700);
      const next = (await raw.roundTrip(request(2, 'list_allocations'))) as { id: number; result: unknown };
      expect(next.id).to.equal(2);
      checked('list_allocations', next.result);
      expect((await d.call('get_topology')).online).to.equal('0-31');
    });
  });

  describe('batches and notifications', () => {
    it('answers each call of a mixed batch, in order, and nothing for its notifications', async () => {
      raw.send([
        request(1, 'allocate_cores', { service_name: 'batch-a', num_of_cores: 2 }),
        request(2, 'allocate_cores', { service_name: 'batch-b', num_of_cores: 0.5 }),
        { jsonrpc: '2.0', method: 'allocate_hugepages', params: { service_name: 'batch-n', node_id: 1, size_kb: 2048, hugepages_requested: 4 } },
        request(3, 'nope'),
        { jsonrpc: '2.0', method: 'nope' },
        'junk',
        request(4, 'allocate_numa_cores', { service_name: 'batch-c', numa_node: 9, num_of_cores: 1 }),
        request(5, 'list_allocations'),
      ]);
      const replies = (await raw.reply()) as (ErrorReply & { result?: unknown })[];
      expect(replies.map((r) => [r.id, r.error?.code ?? 'ok'])).to.deep.equal([
        [1, 'ok'],
        [2, -32602],
        [3, -32601],
        [null, -32600],
        [4, -32003],
        [5, 'ok'],
      ]);
      expect(checked('allocate_cores', replies[0]?.result).allocated_cores).to.equal('2,18');
      // The notification ran: its reservation is recorded.
      const listed = (await d.call('list_allocations')).allocations;
      expect(listed.map((a) => a.service_name)).to.deep.equal(['batch-a', 'batch-n']);
      await d.call('release_service', { service_name: 'batch-a' });
      await d.call('release_service', { service_name: 'batch-n' });
    });

    it('sends nothing at all for a batch of notifications, or a lone notification', async () => {
      raw.send([
        { jsonrpc: '2.0', method: 'get_topology' },
        { jsonrpc: '2.0', method: 'allocate_cores', params: { service_name: 'quiet', num_of_cores: 1 } },
        { jsonrpc: '2.0', method: 'unknown_method' },
      ]);
      raw.send({ jsonrpc: '2.0', method: 'list_allocations' });
      raw.send({ jsonrpc: '2.0', method: 'allocate_cores', params: { service_name: 'quiet', num_of_cores: 'bad' } });
      // Requests of one connection run in arrival order, so this read sees the notified change;
      // and replies come in that order, so its reply coming first means none came before it.
      const reply = (await raw.roundTrip(request(9, 'list_allocations'))) as { id: number; result: unknown };
      expect(reply.id).to.equal(9);
      expect(checked('list_allocations', reply.result).allocations.map((a) => [a.service_name, a.allocated_cores])).to.deep.equal([
        ['quiet', '2'],
      ]);
      await d.call('release_service', { service_name: 'quiet' });
    });
  });

  describe('pipelining', () => {
    it('answers 1000 requests written at once on one connection, in request order', async function () {
      this.timeout(10_000);
      // Every tenth request changes the reservation of one service; the others read.
      const requests = Array.from({ length: 1000 }, (_, i) =>
        i % 10 === 0
          ? request(i + 1, 'allocate_hugepages', { service_name: 'pipe', node_id: 0, size_kb: 2048, hugepages_requested: i / 10 + 1 })
          : request(i + 1, i % 2 === 0 ? 'list_allocations' : 'get_memory_info'),
      );
      raw.write(requests.map((r) => `${JSON.stringify(r)}\n`).join(''));
      const replies: { id: number; result?: unknown; error?: unknown }[] = [];
      for (let i = 0; i < 1000; i++) replies.push((await raw.reply()) as (typeof replies)[number]);
      expect(replies.map((r) => r.id)).to.deep.equal(requests.map((r) => r.id));
      expect(replies.filter((r) => r.error !== undefined)).to.deep.equal([]);
      for (const [i, reply] of replies.entries()) checked(requests[i]!.method as MethodName, reply.result);
      // The changes were applied in request order: the last one holds.
      const [entry] = (await d.call('list_allocations')).allocations;
      expect(entry?.hugepages).to.deep.equal([{ node_id: 0, size_kb: 2048, count: 100 }]);
      await d.call('release_service', { service_name: 'pipe' });
    });
  });

  describe('limits and slow clients', () => {
    it('answers an oversized message with -32600 and closes that connection only', async () => {
      const other = await d.raw();
      const big = JSON.stringify(request(1, 'list_allocations', { service_name: 'x', pad: 'y'.repeat(MAX_MESSAGE_BYTES) }));
      raw.write(`${big}\n`);
      const reply = (await raw.reply()) as ErrorReply;
      expect([reply.id, reply.error.code, reply.error.message]).to.deep.equal([null, -32600, 'Invalid Request']);
      await raw.closed;
      expect(raw.pending.lines).to.deep.equal([]);
      const answer = (await other.roundTrip(request(2, 'get_topology'))) as { id: number; result: unknown };
      expect(checked('get_topology', answer.result).pool).to.equal('2-15,18-31');
    });

    it('accepts a message of exactly the limit', async () => {
      const message = request(1, 'list_allocations', { pad: '' });
      const pad = MAX_MESSAGE_BYTES - JSON.stringify(message).length;
      const reply = (await raw.roundTrip(request(1, 'list_allocations', { pad: 'p'.repeat(pad) }))) as { id: number; result: unknown };
      checked('list_allocations', reply.result);
    });

    it('does not delay another client while one sits on half a message', async () => {
      const silent = await d.raw();
      silent.write('{"jsonrpc":"2.0","id":1,"method":"allocate_cores","params":{"service_name":"slow');
      const reply = (await raw.roundTrip(request(2, 'allocate_cores', { service_name: 'fast', num_of_cores: 1 }))) as { result: unknown };
      expect(checked('allocate_cores', reply.result).allocated_cores).to.equal('2');
      // The silent client finishes its message later and is answered too.
      silent.write('","num_of_cores":1}}\n');
      const late = (await silent.reply()) as { id: number; result: unknown };
      expect(checked('allocate_cores', late.result).allocated_cores).to.equal('18');
      await d.call('release_service', { service_name: 'fast' });
      await d.call('release_service', { service_name: 'slow' });
    });
  });
});
