import { expect } from 'chai';
import { connect, createServer, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import winston from 'winston';
import {
  SocketInUseError,
  SocketPathError,
  startServer,
  type ConnectionHandler,
  type MessageHandler,
  type ProtocolErrorHandler,
  type ServerOptions,
  type SocketServer,
} from '../../src/transport/index.js';

const silentLogger = winston.createLogger({
  level: 'debug',
  transports: [new winston.transports.Console({ silent: true })],
});

/** Echoes the parsed message; `delayMs` delays the reply, `notify: true` asks for none, `last: true` closes after it. */
const echo: MessageHandler = async (message) => {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { text: JSON.stringify({ error: 'parse' }) };
  }
  const fields = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if (typeof fields.delayMs === 'number') await sleep(fields.delayMs);
  return { text: fields.notify === true ? undefined : JSON.stringify({ echo: value }), last: fields.last === true };
};

/** The same handler for every connection. */
const every =
  (handler: MessageHandler): ConnectionHandler =>
  () =>
    handler;

const protocolError: ProtocolErrorHandler = (kind) => JSON.stringify({ error: kind });

/** A client that collects the lines it receives. */
class Client {
  readonly received: string[] = [];
  readonly closed: Promise<void>;
  #buffer = '';
  #taken = 0;
  #wake: (() => void) | undefined;
  #ended = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (this.#buffer + text).split('\n');
      this.#buffer = parts.pop()!;
      this.received.push(...parts);
      this.#wake?.();
    });
    // The server may reset a connection it closes while this client still sends: not a failure.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  static open(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Client(socket));
      });
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next `count` lines not yet taken. */
  async lines(count: number, timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < this.#taken + count) {
      if (this.#ended) throw new Error(`closed after ${this.received.length - this.#taken}/${count} lines`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting: ${this.received.length - this.#taken}/${count} lines`);
      await Promise.race([new Promise<void>((resolve) => (this.#wake = resolve)), sleep(left)]);
    }
    const lines = this.received.slice(this.#taken, this.#taken + count);
    this.#taken += count;
    return lines;
  }

  async line(timeoutMs?: number): Promise<unknown> {
    const [line] = await this.lines(1, timeoutMs);
    return JSON.parse(line!);
  }

  async request(text: string): Promise<unknown> {
    this.send(text);
    return this.line();
  }

  /** Resolves true if the server closes the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), sleep(timeoutMs).then(() => false)]);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('transport server (Unix socket)', () => {
  let dir: string;
  let socketPath: string;
  const servers: SocketServer[] = [];
  const clients: Client[] = [];

  async function start(overrides: Partial<ServerOptions> = {}): Promise<SocketServer> {
    const server = await startServer({
      socketPath,
      accept: every(echo),
      onProtocolError: protocolError,
      logger: silentLogger,
      ...overrides,
    });
    servers.push(server);
    return server;
  }

  async function client(path = socketPath): Promise<Client> {
    const opened = await Client.open(path);
    clients.push(opened);
    return opened;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-transport-'));
    socketPath = join(dir, 'epa.sock');
  });

  afterEach(async () => {
    for (const opened of clients.splice(0)) opened.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('framing over a socket', () => {
    it('answers newline-delimited messages in order, each reply ending in a newline', async () => {
      await start();
      const c = await client();
      c.send('{"n":1}\n{"n":2}\r\n\n   \n{"n":3}\n');
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
      for (const char of text.slice(0, -1)) {
        c.send(char);
        await sleep(1);
      }
      await sleep(30);
      expect(c.received).to.deep.equal([]);
      c.send(text.slice(-1));
      expect(await c.line()).to.deep.equal({ echo: JSON.parse(text) as unknown });
      await sleep(30);
      expect(c.received).to.have.length(1);
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
      c.send('{"notify":true}\n{"n":1}\n{"notify":true,"delayMs":20}\n{"n":2}\n');
      expect(await c.lines(2)).to.deep.equal(['{"echo":{"n":1}}', '{"echo":{"n":2}}']);
      await sleep(50);
      expect(c.received).to.have.length(2);
    });

    it('answers a client that half-closes after sending, then closes', async () => {
      await start();
      const c = await client();
      c.socket.end('{"n":1}\n42');
      expect(await c.lines(2)).to.deep.equal(['{"echo":{"n":1}}', '{"echo":42}']);
      expect(await c.closesWithin(1000)).to.equal(true);
    });
  });

  describe('pipelining', () => {
    it('answers 1000 pipelined messages in request order although they finish out of order', async () => {
      const finished: number[] = [];
      await start({
        accept: every(async (message) => {
          const { id } = JSON.parse(message) as { id: number };
          await sleep((id * 7919) % 7);
          finished.push(id);
          return { text: JSON.stringify({ id }) };
        }),
      });
      const c = await client();
      const ids = Array.from({ length: 1000 }, (_, i) => i);
      c.send(ids.map((id) => JSON.stringify({ id }) + '\n').join(''));
      const replies = (await c.lines(1000, 10_000)).map((line) => (JSON.parse(line) as { id: number }).id);
      expect(replies).to.deep.equal(ids);
      expect(finished).to.have.length(1000);
      expect(finished).to.not.deep.equal(ids);
    });

    it('caps the requests in flight on a connection by pausing reads', async () => {
      let running = 0;
      let mostRunning = 0;
      let started = 0;
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await start({
        maxInFlightPerConnection: 8,
        accept: every(async (message) => {
          started++;
          mostRunning = Math.max(mostRunning, ++running);
          await gate;
          running--;
          return { text: message };
        }),
      });
      const c = await client();
      const messages = Array.from({ length: 100 }, (_, i) => `{"i":${i}}`);
      c.send(messages.map((message) => message + '\n').join(''));
      await sleep(100);
      expect(started).to.equal(8);
      release();
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
      c.send('{"q":1}\n'.repeat(count));
      await sleep(100);
      const stalledAt = handled;
      await sleep(100);
      expect(handled).to.equal(stalledAt);
      expect(stalledAt).to.be.below(100);
      c.socket.resume();
      const lines = await c.lines(count, 10_000);
      expect(lines.every((line) => line === reply)).to.equal(true);
      expect(handled).to.equal(count);
    });
  });

  describe('limits', () => {
    it('answers an oversized message, then closes that connection only', async () => {
      await start({ maxMessageBytes: 1024 });
      const bystander = await client();
      const c = await client();
      c.send('{"n":1}\n' + `"${'x'.repeat(4096)}"\n{"n":2}\n`);
      expect(await c.lines(2)).to.deep.equal(['{"echo":{"n":1}}', '{"error":"oversized"}']);
      expect(await c.closesWithin(1000)).to.equal(true);
      expect(c.received).to.have.length(2);
      expect(await bystander.request('{"still":"served"}\n')).to.deep.equal({ echo: { still: 'served' } });
      expect(await (await client()).request('{"new":1}')).to.deep.equal({ echo: { new: 1 } });
    });

    it('closes a connection whose message never ends without a newline, over the limit', async () => {
      await start({ maxMessageBytes: 1024 });
      const c = await client();
      for (let i = 0; i < 8; i++) c.send('['.repeat(256));
      expect(await c.line()).to.deep.equal({ error: 'oversized' });
      expect(await c.closesWithin(1000)).to.equal(true);
    });

    it('answers invalid UTF-8 with a protocol error and keeps the connection usable', async () => {
      await start();
      const c = await client();
      c.send(Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
      expect(await c.line()).to.deep.equal({ error: 'invalid-utf8' });
      expect(await c.request('{"s":"ok"}')).to.deep.equal({ echo: { s: 'ok' } });
    });

    it('closes a connection whose message stays incomplete, after answering what came before', async () => {
      await start({ partialTimeoutMs: 200 });
      const c = await client();
      const began = Date.now();
      c.send('{"n":1,"delayMs":300}\n{"half":');
      expect(await c.line()).to.deep.equal({ echo: { n: 1, delayMs: 300 } });
      expect(await c.closesWithin(1000)).to.equal(true);
      expect(Date.now() - began).to.be.at.least(290);
    });

    it('closes an idle connection, but not while a request is in flight', async () => {
      await start({ idleTimeoutMs: 150 });
      const c = await client();
      expect(await c.request('{"delayMs":300}\n')).to.deep.equal({ echo: { delayMs: 300 } });
      const answeredAt = Date.now();
      expect(await c.closesWithin(1000)).to.equal(true);
      expect(Date.now() - answeredAt).to.be.at.least(120);
    });

    it('closes connections over the limit at once and accepts again when one leaves', async () => {
      const server = await start({ maxConnections: 2 });
      const first = await client();
      const second = await client();
      expect(await first.request('{"c":1}')).to.deep.equal({ echo: { c: 1 } });
      expect(await second.request('{"c":2}')).to.deep.equal({ echo: { c: 2 } });
      const third = await client();
      third.send('{"c":3}');
      expect(await third.closesWithin(1000)).to.equal(true);
      expect(third.received).to.deep.equal([]);
      expect(server.connectionCount).to.equal(2);
      first.close();
      while (server.connectionCount > 1) await sleep(5);
      expect(await (await client()).request('{"c":4}')).to.deep.equal({ echo: { c: 4 } });
    });

    it('serves other clients at once while one sits on half a message', async () => {
      await start();
      const silent = await client();
      silent.send('{"method":"allocate_cores","params":{"ser');
      const busy = await client();
      const began = Date.now();
      for (let i = 0; i < 20; i++) expect(await busy.request(`{"i":${i}}\n`)).to.deep.equal({ echo: { i } });
      expect(Date.now() - began).to.be.below(1000);
      expect(silent.received).to.deep.equal([]);
      expect(silent.socket.destroyed).to.equal(false);
    });

    it('closes a connection whose handler throws, without disturbing others', async () => {
      await start({
        accept: every(async (message) => {
          if (message.includes('boom')) throw new Error('boom');
          return echo(message);
        }),
      });
      const other = await client();
      const c = await client();
      c.send('{"n":1}\n{"boom":1}\n{"n":2}\n');
      expect(await c.line()).to.deep.equal({ echo: { n: 1 } });
      expect(await c.closesWithin(1000)).to.equal(true);
      expect(c.received).to.have.length(1);
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
      c.send('{"slow":true,"delayMs":300}\n');
      await sleep(50);
      const closing = server.close();
      await sleep(10);
      expect(existsSync(socketPath)).to.equal(false);
      let refused = false;
      await Client.open(socketPath).catch(() => (refused = true));
      expect(refused).to.equal(true);
      expect(await c.line()).to.deep.equal({ echo: { slow: true, delayMs: 300 } });
      await closing;
      expect(await c.closesWithin(500)).to.equal(true);
      expect(await idle.closesWithin(500)).to.equal(true);
      expect(server.connectionCount).to.equal(0);
    });

    it('does not wait for ever on a client that stopped reading its replies', async () => {
      const reply = 'r'.repeat(64 * 1024);
      const server = await start({ partialTimeoutMs: 200, accept: every(async () => Promise.resolve({ text: reply })) });
      const c = await client();
      c.socket.pause();
      c.send('{}\n'.repeat(200));
      await sleep(50);
      const began = Date.now();
      await server.close();
      expect(Date.now() - began).to.be.below(1000);
      expect(server.connectionCount).to.equal(0);
    });
  });
});
