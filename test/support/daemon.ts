// Shared helpers of the daemon integration tests: a real daemon in-process on a temp dir (fake
// sysfs, state dir, socket), clients that check every result against its schema, a raw-socket
// client that writes exact bytes, and the Python snap's one-shot client.
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { validateResult, type MethodName, type ResultOf } from '../../schema/index.js';
import { openUnixSocket, EpaError, EpaClient } from '../../src/client/index.js';
import { LIMIT_DEFAULTS, type DaemonConfig } from '../../src/daemon/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import type { StateWriter } from '../../src/state/index.js';
import { PythonSocket, pythonJson } from '../clients/python-socket.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { tempSysfs, type FakeHost, type TempSysfs } from '../fixtures/host.js';

export { EpaError, EpaClient };

const REPLY_TIMEOUT_MS = 3000;

/** Fails on text that looks like a stack trace or a source location. */
export function expectNoStack(text: string): void {
  expect(text).not.to.match(/^\s*at /m);
  expect(text).not.to.match(/\bat \S+ \(/);
  expect(text).not.to.match(/\.[cm]?[jt]s:\d/);
}

/** The result, after checking it against the method's result schema. */
export function checked<M extends MethodName>(method: M, value: unknown): ResultOf<M> {
  const verdict = validateResult(method, value);
  if (!verdict.ok) expect.fail(`${method} result does not match its schema: ${JSON.stringify(verdict.errors)}`);
  return verdict.value;
}

/** Calls a method that must succeed; the result is checked against its schema. */
export async function callOk<M extends MethodName>(
  client: EpaClient,
  method: M,
  params: Record<string, unknown> = {},
): Promise<ResultOf<M>> {
  return checked(method, await client.call(method, params));
}

/** Calls a method that must fail; returns its error, checked to carry no stack trace. */
export async function callErr(client: EpaClient, method: string, params: Record<string, unknown> = {}): Promise<EpaError> {
  let result: unknown;
  try {
    result = await client.call(method, params);
  } catch (error) {
    if (!(error instanceof EpaError)) throw error;
    expectNoStack(JSON.stringify({ message: error.message, data: error.data }));
    return error;
  }
  return expect.fail(`${method} succeeded with ${JSON.stringify(result)}`);
}

/** A client that writes exact bytes and reads newline-terminated replies. */
export class RawClient {
  private buffer = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (this.buffer + text).split('\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
    // The daemon may reset a connection it closes while this client still writes.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static async connect(path: string): Promise<RawClient> {
    return new RawClient(await openUnixSocket(path));
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Writes one message followed by a newline. */
  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next reply line (without its newline); fails if none comes in time or the socket closes. */
  async line(timeoutMs = REPLY_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) expect.fail('connection closed before a reply arrived');
      const left = deadline - Date.now();
      if (left <= 0) expect.fail(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const text = this.lines.shift()!;
    expectNoStack(text);
    return text;
  }

  /** The next reply, parsed. */
  async reply(timeoutMs = REPLY_TIMEOUT_MS): Promise<unknown> {
    return JSON.parse(await this.line(timeoutMs)) as unknown;
  }

  /** Sends one message and returns the next reply, parsed. */
  async roundTrip(message: unknown): Promise<unknown> {
    this.send(message);
    return this.reply();
  }

  /** Replies received and not yet taken, plus any partial line. */
  get pending(): { lines: readonly string[]; partial: string } {
    return { lines: [...this.lines], partial: this.buffer };
  }

  get isClosed(): boolean {
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A Python client of the one-shot protocol: connect, sendall(json.dumps(request)) with no
 * newline, one recv(4096), json.loads; then the daemon must close the connection. So the whole
 * reply comes in one read.
 */
export async function oneShot(socketPath: string, message: unknown): Promise<Record<string, unknown>> {
  const socket = await PythonSocket.connect(socketPath, REPLY_TIMEOUT_MS);
  try {
    await socket.sendall(pythonJson(message));
    const text = (await socket.recv(4096)).toString('utf8');
    expect(text.endsWith('\n') && !text.endsWith('\n\n'), 'reply ends in one newline').to.equal(true);
    expect((await socket.recv(4096)).length, 'the daemon closes the connection after its reply').to.equal(0);
    expectNoStack(text);
    const reply = JSON.parse(text) as unknown;
    expect(reply).to.be.an('object').that.is.not.an('array');
    return reply as Record<string, unknown>;
  } finally {
    socket.close();
  }
}

export interface TestDaemonOptions {
  readonly host?: FakeHost;
  /** Config fields to override (limits, cpuPool, socket, stateDir). */
  readonly config?: Partial<DaemonConfig>;
  /** The state file to start from (its text), as an upgrade would find it. */
  readonly stateFile?: string;
  /** Replaces the durable writer of the state store (to hold or fail writes). */
  readonly writer?: StateWriter;
  /** Files of the sysfs tree to overwrite before the start (path below the root → content). */
  readonly breakSysfs?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
}

/** A daemon on a temp dir of its own: fake sysfs, state dir and socket. */
export class TestDaemon {
  private readonly clients: { close(): void }[] = [];
  private shared: EpaClient | undefined;
  private running: Daemon | undefined;

  private constructor(
    readonly dir: string,
    private readonly sysfs: TempSysfs,
    readonly config: DaemonConfig,
    private readonly logger: Logger,
    private readonly writer: StateWriter | undefined,
  ) {}

  static async start(options: TestDaemonOptions = {}): Promise<TestDaemon> {
    const dir = await mkdtemp(join(tmpdir(), 'epa-it-'));
    const sysfs = tempSysfs(options.host ?? SAMPLE);
    const config: DaemonConfig = {
      ...LIMIT_DEFAULTS,
      socket: join(dir, 'epa.sock'),
      stateDir: join(dir, 'state'),
      sysfs: sysfs.path,
      ...options.config,
    };
    const test = new TestDaemon(dir, sysfs, config, options.logger ?? silentLogger(), options.writer);
    try {
      for (const [path, content] of Object.entries(options.breakSysfs ?? {})) await writeFile(join(sysfs.path, path), content);
      if (options.stateFile !== undefined) {
        await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
        await writeFile(test.stateFile, options.stateFile);
      }
      await test.restart();
    } catch (error) {
      await test.cleanup();
      throw error;
    }
    return test;
  }

  get daemon(): Daemon {
    if (!this.running) throw new Error('the daemon is stopped');
    return this.running;
  }

  get socketPath(): string {
    return this.config.socket;
  }

  get sysfsPath(): string {
    return this.sysfs.path;
  }

  get stateFile(): string {
    return join(this.config.stateDir, 'state.json');
  }

  /** The state file on disk, parsed. */
  async readState(): Promise<unknown> {
    return JSON.parse(await readFile(this.stateFile, 'utf8')) as unknown;
  }

  /** A new persistent JSON-RPC connection, closed at cleanup. */
  async client(): Promise<EpaClient> {
    const client = await EpaClient.connect(this.socketPath);
    this.clients.push(client);
    return client;
  }

  /** A new raw connection, closed at cleanup. */
  async raw(): Promise<RawClient> {
    const client = await RawClient.connect(this.socketPath);
    this.clients.push(client);
    return client;
  }

  /** Calls a method on a shared connection; the result is checked against its schema. */
  async call<M extends MethodName>(method: M, params: Record<string, unknown> = {}): Promise<ResultOf<M>> {
    this.shared ??= await this.client();
    return callOk(this.shared, method, params);
  }

  /** Calls a method on the shared connection that must fail, and returns the error. */
  async fail(method: string, params: Record<string, unknown> = {}): Promise<EpaError> {
    this.shared ??= await this.client();
    return callErr(this.shared, method, params);
  }

  /** Stops the daemon (as on SIGTERM); the dirs stay. */
  async stop(): Promise<void> {
    const daemon = this.running;
    this.running = undefined;
    this.shared = undefined;
    await daemon?.stop();
  }

  /** Starts a daemon on the same dirs (stopping the current one first). */
  async restart(): Promise<void> {
    await this.stop();
    this.running = await startDaemon(this.config, this.logger, this.writer === undefined ? {} : { writer: this.writer });
  }

  /** Closes every client, stops the daemon and removes the temp dirs. */
  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    await this.stop();
    this.sysfs.cleanup();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * For a describe block: a start function whose daemons are cleaned up after each test, so no
 * test leaves a daemon, socket or temp dir behind for the next.
 */
export function daemonsPerTest(): (options?: TestDaemonOptions) => Promise<TestDaemon> {
  let daemons: TestDaemon[] = [];
  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.cleanup()));
    daemons = [];
  });
  return async (options = {}) => {
    const d = await TestDaemon.start(options);
    daemons.push(d);
    return d;
  };
}
