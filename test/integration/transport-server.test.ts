import { expect } from 'chai';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SocketInUseError,
  SocketPathError,
  prepareSocketPath,
  startServer,
  type ConnectionHandler,
  type MessageHandler,
  type ProtocolErrorHandler,
  type ServerOptions,
  type SocketServer,
} from '../../src/transport/index.js';
import { ManualClock } from '../support/clock.js';
import { LineClient } from '../support/line-client.js';
import { capturingLogger, type CapturedLog } from '../support/log.js';

/**
 * Requests that wait for the test: `{"hold":true}` is answered only once open() is called, and
 * the test can wait until a given number of them have started.
 */
class Gate {
  started = 0;
  #open = false;
  #waiting: (() => void)[] = [];
  #watchers: { readonly count: number; readonly wake: () => void }[] = [];

  async pass(): Promise<void> {
    this.started++;
    for (const watcher of this.#watchers.filter((w) => w.count <= this.started)) watcher.wake();
    this.#watchers = this.#watchers.filter((w) => w.count > this.started);
    if (!this.#open) await new Promise<void>((wake) => this.#waiting.push(wake));
  }

  /** Settles once `count` held requests have started. */
  whenStarted(count: number): Promise<void> {
    if (this.started >= count) return Promise.resolve();
    return new Promise((wake) => this.#watchers.push({ count, wake }));
  }

  open(): void {
    this.#open = true;
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/** Echoes the parsed message; `hold: true` waits for the gate, `notify: true` asks for no reply, `last: true` closes after it. */
const echoThrough =
  (gate: Gate): MessageHandler =>
  async (message) => {
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch {
      return { text: JSON.stringify({ error: 'parse' }) };
    }
    const fields = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    if (fields.hold === true) await gate.pass();
    return { text: fields.notify === true ? undefined : JSON.stringify({ echo: value }), last: fields.last === true };
  };

/** The same handler for every connection. */
const every =
  (handler: MessageHandler): ConnectionHandler =>
  () =>
    handler;

const protocolError: ProtocolErrorHandler = (kind) => JSON.stringify({ error: kind });

describe('transport server (Unix socket)', () => {
  let dir: string;
  let socketPath: string;
  let gate: Gate;
  let clock: ManualClock;
  let log: CapturedLog;
  const servers: SocketServer[] = [];
  const clients: LineClient[] = [];

  /** Prepares the socket path as the daemon does, then starts a server on it (echo by default). */
  async function start(overrides: Partial<ServerOptions> = {}): Promise<SocketServer> {
    await prepareSocketPath(overrides.socketPath ?? socketPath);
    const server = await startServer({
      socketPath,
      accept: every(echoThrough(gate)),
      onProtocolError: protocolError,
      logger: log.logger,
      clock,
      ...overrides,
    });
    servers.push(server);
    return server;
  }

  async function client(path = socketPath): Promise<LineClient> {
    const opened = await LineClient.connect(path);
    clients.push(opened);
    return opened;
  }

  /** The next reply, parsed. */
  const reply = (c: LineClient) => c.reply();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-transport-'));
    socketPath = join(dir, 'epa.sock');
    gate = new Gate();
    clock = new ManualClock();
    log = capturingLogger('debug');
  });

  afterEach(async () => {
    gate.open();
    for (const opened of clients.splice(0)) opened.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('framing over a socket', () => {
    it('answers newline-delimited messages in order, each reply ending in a newline', async () => {
      await start();
      const c = await client();
      c.write('{"n":1}\n{"n":2}\r\n\n   \n{"n":3}\n');
      expect(await c.lines(3)).to.deep.equal(['{"echo":{"n":1}}', '{"echo":{"n":2}}', '{"echo":{"n":3}}']);
    });

    it('answers a complete JSON object sent with no newline while the client waits', async () => {
      await start();
      const c = await client();
      expect(await c.request('{"version":"1.0","action":"list_allocations"}')).to.deep.equal({
        echo: { version: '1.0', action: 'list_allocations' },
      });
      expect(await c.request('[1,{"two":[3]}]')).to.deep.equal({ echo: [1, { two: [3] }] });
    });

    it('waits for the last of many tiny writes, then answers once', async () => {
      await start();
      const c = await client();
      const text = JSON.stringify({ s: 'a}b]"c', n: [1, { x: 2 }] });
      for (const char of text) await c.flush(char);
      // Replies come in request order: had any piece been answered, its reply would come first.
      c.write('{"after":true}\n');
      expect(await c.lines(2)).to.deep.equal([JSON.stringify({ echo: JSON.parse(text) as unknown }), '{"echo":{"after":true}}']);
    });

    it('keeps strings holding brackets, escaped quotes and escaped newlines intact', async () => {
      await start();
      const c = await client();
      const value = { text: 'a}b"c\nd\\', more: ['}', ']', '\\"', '{"nested":"}"}'] };
      expect(await c.request(JSON.stringify(value))).to.deep.equal({ echo: value });
    });

    it('sends nothing back for a message the handler does not answer', async () => {
      await start();
      const c = await client();
      c.write('{"notify":true}\n{"n":1}\n{"notify":true,"hold":true}\n{"n":2}\n');
      expect(await c.line()).to.equal('{"echo":{"n":1}}');
      await gate.whenStarted(1);
      gate.open();
      expect(await c.line()).to.equal('{"echo":{"n":2}}');
      c.write('{"n":3}\n');
      expect(await c.line(), 'the next reply is the next request\'s').to.equal('{"echo":{"n":3}}');
    });

    it('answers a client that half-closes after sending, then closes', async () => {
      await start();
      const c = await client();
      c.socket.end('{"n":1}\n42');
      expect(await c.rest()).to.deep.equal({ lines: ['{"echo":{"n":1}}', '{"echo":42}'], partial: '' });
    });
  });

  describe('pipelining', () => {
    it('answers 1000 pipelined messages in request order although they finish out of order', async () => {
      const finished: number[] = [];
      const waiting: { id: number; finish: () => void }[] = [];
      // Whatever has started by the next turn of the event loop finishes in reverse order.
      const finishReversed = () => {
        for (const entry of waiting.splice(0).reverse()) entry.finish();
      };
      await start({
        accept: every(async (message) => {
          const { id } = JSON.parse(message) as { id: number };
          if (waiting.length === 0) setImmediate(finishReversed);
          await new Promise<void>((finish) => waiting.push({ id, finish }));
          finished.push(id);
          return { text: JSON.stringify({ id }) };
        }),
      });
      const c = await client();
      const ids = Array.from({ length: 1000 }, (_, i) => i);
      c.write(ids.map((id) => JSON.stringify({ id }) + '\n').join(''));
      const replies = (await c.lines(1000)).map((line) => (JSON.parse(line) as { id: number }).id);
      expect(replies).to.deep.equal(ids);
      expect(finished).to.have.length(1000);
      expect(finished).to.not.deep.equal(ids);
    });

    it('caps the requests in flight on a connection by pausing reads', async () => {
      let running = 0;
      let mostRunning = 0;
      await start({
        maxInFlightPerConnection: 8,
        accept: every(async (message) => {
          mostRunning = Math.max(mostRunning, ++running);
          await gate.pass();
          running--;
          return { text: message };
        }),
      });
      const c = await client();
      const messages = Array.from({ length: 100 }, (_, i) => `{"i":${i}}`);
      c.write(messages.map((message) => message + '\n').join(''));
      // The messages arrive together: without the cap, all of them would start in the same turn.
      await gate.whenStarted(8);
      expect(gate.started).to.equal(8);
      gate.open();
      expect(await c.lines(100)).to.deep.equal(messages);
      expect(mostRunning).to.equal(8);
    });

    it('stops reading from a client that does not read its replies, and resumes when it does', async () => {
      let handled = 0;
      const reply = 'r'.repeat(16 * 1024);
      await start({
        maxInFlightPerConnection: 16,
        accept: every(async () => {
          handled++;
          return Promise.resolve({ text: reply });
        }),
      });
      const c = await client();
      c.socket.pause();
      const count = 500;
      c.write('{"q":1}\n'.repeat(count));
      await log.whenLogged(/write buffer full/);
      expect(handled, 'requests started before the server stopped taking more').to.be.below(100);
      c.socket.resume();
      const lines = await c.lines(count);
      expect(lines.every((line) => line === reply)).to.equal(true);
      expect(handled).to.equal(count);
    });
  });

  describe('limits', () => {
    it('answers an oversized message, then closes that connection only', async () => {
      await start({ maxMessageBytes: 1024 });
      const bystander = await client();
      const c = await client();
      c.write('{"n":1}\n' + `"${'x'.repeat(4096)}"\n{"n":2}\n`);
      expect(await c.rest()).to.deep.equal({ lines: ['{"echo":{"n":1}}', '{"error":"oversized"}'], partial: '' });
      expect(await bystander.request('{"still":"served"}\n')).to.deep.equal({ echo: { still: 'served' } });
      expect(await (await client()).request('{"new":1}')).to.deep.equal({ echo: { new: 1 } });
    });

    it('closes on an oversized message only once the client has sent the rest of its line, so the client gets the reply', async () => {
      await start({ maxMessageBytes: 1024 });
      const c = await client();
      await c.flush(`{"pad":"${'x'.repeat(2048)}`);
      expect(await c.line()).to.equal('{"error":"oversized"}');
      // The server has answered and half-closed; the client may still finish writing its message.
      await c.flush(`${'y'.repeat(512)}"}\n`);
      expect(await c.rest()).to.deep.equal({ lines: [], partial: '' });
    });

    it('closes a connection whose message never ends without a newline, over the limit', async () => {
      await start({ maxMessageBytes: 1024 });
      const c = await client();
      for (let i = 0; i < 8; i++) c.write('['.repeat(256));
      expect(await c.rest()).to.deep.equal({ lines: ['{"error":"oversized"}'], partial: '' });
    });

    it('answers invalid UTF-8 with a protocol error and keeps the connection usable', async () => {
      await start();
      const c = await client();
      c.write(Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
      expect(await reply(c)).to.deep.equal({ error: 'invalid-utf8' });
      expect(await c.request('{"s":"ok"}')).to.deep.equal({ echo: { s: 'ok' } });
    });

    it('closes a connection whose message stays incomplete, after answering what came before', async () => {
      const server = await start({ partialTimeoutMs: 200 });
      const c = await client();
      await c.flush('{"n":1,"hold":true}\n{"half":');
      await Promise.all([gate.whenStarted(1), clock.whenArmed(200)]);
      clock.advance(199);
      expect(clock.armed(200), 'not yet timed out').to.equal(1);
      clock.advance(1);
      // Timed out: it takes nothing more, but the request in flight is still answered.
      expect(server.connectionCount).to.equal(1);
      gate.open();
      expect(await c.rest()).to.deep.equal({ lines: ['{"echo":{"n":1,"hold":true}}'], partial: '' });
    });

    it('closes an idle connection, but not while a request is in flight', async () => {
      await start({ idleTimeoutMs: 150 });
      const c = await client();
      c.write('{"hold":true}\n');
      await gate.whenStarted(1);
      expect(clock.armed(150), 'no idle timer while a request runs').to.equal(0);
      clock.advance(1000);
      gate.open();
      expect(await reply(c)).to.deep.equal({ echo: { hold: true } });
      expect(await c.request('{"still":"open"}\n')).to.deep.equal({ echo: { still: 'open' } });
      await clock.whenArmed(150);
      clock.advance(149);
      expect(clock.armed(150)).to.equal(1);
      clock.advance(1);
      expect(await c.rest()).to.deep.equal({ lines: [], partial: '' });
    });

    it('closes connections over the limit at once and accepts again when one leaves', async () => {
      const server = await start({ maxConnections: 2 });
      const first = await client();
      const second = await client();
      expect(await first.request('{"c":1}')).to.deep.equal({ echo: { c: 1 } });
      expect(await second.request('{"c":2}')).to.deep.equal({ echo: { c: 2 } });
      const third = await client();
      third.write('{"c":3}');
      expect(await third.rest()).to.deep.equal({ lines: [], partial: '' });
      expect(server.connectionCount).to.equal(2);
      first.close();
      await log.whenLogged(/connection closed/);
      expect(await (await client()).request('{"c":4}')).to.deep.equal({ echo: { c: 4 } });
    });

    it('serves other clients while one sits on half a message', async () => {
      await start();
      const silent = await client();
      await silent.flush('{"method":"allocate_cores","params":{"ser');
      const busy = await client();
      for (let i = 0; i < 20; i++) expect(await busy.request(`{"i":${i}}\n`)).to.deep.equal({ echo: { i } });
      expect(silent.pending).to.deep.equal({ lines: [], partial: '' });
      expect(silent.isClosed).to.equal(false);
    });

    it('closes a connection whose handler throws, without disturbing others', async () => {
      await start({
        accept: every(async (message) => {
          if (message.includes('boom')) throw new Error('boom');
          return echoThrough(gate)(message);
        }),
      });
      const other = await client();
      const c = await client();
      c.write('{"n":1}\n{"boom":1}\n{"n":2}\n');
      expect(await c.rest()).to.deep.equal({ lines: ['{"echo":{"n":1}}'], partial: '' });
      expect(await other.request('{"n":3}')).to.deep.equal({ echo: { n: 3 } });
    });
  });

  describe('socket file', () => {
    it('creates the socket with mode 0660 whatever the umask, and restores the umask', async () => {
      const previous = process.umask(0);
      try {
        await start();
        expect(process.umask(0)).to.equal(0);
      } finally {
        process.umask(previous);
      }
      const { mode } = await stat(socketPath);
      expect(mode & 0o777).to.equal(0o660);
    });

    it('applies a tighter socket mode', async () => {
      await start({ socketMode: 0o600 });
      expect((await stat(socketPath)).mode & 0o777).to.equal(0o600);
    });

    it('refuses a mode that lets every user write to the socket, and creates nothing', async () => {
      for (const socketMode of [0o666, 0o662, 0o777]) {
        let error: unknown;
        await start({ socketMode }).catch((e: unknown) => (error = e));
        expect(error, socketMode.toString(8)).to.be.instanceOf(RangeError);
        expect((error as Error).message).to.match(/must not be writable by every user/);
        expect(existsSync(socketPath)).to.equal(false);
      }
    });

    it('creates a missing parent directory, not writable by others', async () => {
      socketPath = join(dir, 'run', 'epa-orchestrator', 'epa.sock');
      await start();
      expect((await stat(socketPath)).isSocket()).to.equal(true);
      expect((await stat(join(dir, 'run', 'epa-orchestrator'))).mode & 0o022).to.equal(0);
    });

    it('gives the socket to the requested group, by name or by id', async function () {
      const groups = (await readFile('/etc/group', 'utf8'))
        .split('\n')
        .map((line) => line.split(':'))
        .filter((fields) => fields.length >= 3 && /^\d+$/.test(fields[2]!));
      const own = process.getgid!();
      // Only root may give the file to a group other than its own.
      const target = groups.find(([, , gid]) => (process.getuid!() === 0 ? Number(gid) !== own : Number(gid) === own));
      if (target === undefined) this.skip();
      const [name, , gid] = target;
      const server = await start({ socketGroup: name });
      expect((await stat(socketPath)).gid).to.equal(Number(gid));
      await server.close();
      await start({ socketGroup: Number(gid) });
      expect((await stat(socketPath)).gid).to.equal(Number(gid));
    });

    it('refuses an unknown group before creating anything', async () => {
      let error: unknown;
      await start({ socketGroup: 'no-such-group-epa' }).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.contain('no-such-group-epa');
      expect(existsSync(socketPath)).to.equal(false);
    });

    it('refuses to start on a path another server answers on, touching nothing', async () => {
      await start();
      const before = await stat(socketPath);
      let error: unknown;
      await start().catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(SocketInUseError);
      expect((error as Error).message).to.contain(socketPath);
      expect((await stat(socketPath)).ino).to.equal(before.ino);
      expect(await (await client()).request('{"first":"still serving"}')).to.deep.equal({
        echo: { first: 'still serving' },
      });
    });

    it('replaces a stale socket file nothing answers on', async () => {
      // A hard link keeps a socket file alive after its listener closed: a stale socket.
      const other = join(dir, 'other.sock');
      const listener = createServer().listen(other);
      await new Promise((resolve) => listener.once('listening', resolve));
      await link(other, socketPath);
      await new Promise((resolve) => listener.close(resolve));
      expect((await stat(socketPath)).isSocket()).to.equal(true);
      await start();
      expect(await (await client()).request('{"fresh":true}')).to.deep.equal({ echo: { fresh: true } });
    });

    it('refuses a path that holds something other than a socket', async () => {
      await writeFile(socketPath, 'precious');
      let error: unknown;
      await start().catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(SocketPathError);
      expect(await readFile(socketPath, 'utf8')).to.equal('precious');
    });
  });

  describe('close()', () => {
    it('stops accepting, delivers the reply of an in-flight request, then removes the socket', async () => {
      const server = await start();
      const c = await client();
      const idle = await client();
      c.write('{"slow":true,"hold":true}\n');
      await gate.whenStarted(1);
      const closing = server.close();
      expect(existsSync(socketPath)).to.equal(false);
      let refused = false;
      await LineClient.connect(socketPath).catch(() => (refused = true));
      expect(refused).to.equal(true);
      gate.open();
      expect(await c.rest()).to.deep.equal({ lines: ['{"echo":{"slow":true,"hold":true}}'], partial: '' });
      await closing;
      await idle.closed;
      expect(server.connectionCount).to.equal(0);
    });

    it('does not wait for ever on a client that stopped reading its replies', async () => {
      const reply = 'r'.repeat(64 * 1024);
      const server = await start({ partialTimeoutMs: 200, accept: every(async () => Promise.resolve({ text: reply })) });
      const c = await client();
      c.socket.pause();
      c.write('{}\n'.repeat(200));
      await log.whenLogged(/write buffer full/);
      const closing = server.close();
      await clock.whenArmed(200);
      clock.advance(200);
      await closing;
      expect(server.connectionCount).to.equal(0);
    });
  });
});
