// The daemon harness of every suite: the dirs a daemon works in (fake sysfs, state dir, socket),
// a real daemon in-process on them (TestDaemon; child-daemon.ts runs one as a separate process on
// the same dirs), calls that check every result against its schema, and the Python snap's
// one-shot client.
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { validateResult, type MethodName, type ResultOf } from '../../schema/index.js';
import type { Clock } from '../../src/clock/index.js';
import { EpaError, EpaClient } from '../../src/client/index.js';
import type { DaemonConfig } from '../../src/daemon/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import type { StateWriter } from '../../src/state/index.js';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.js';
import { PythonSocket, pythonJson } from '../clients/python-socket.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { tempSysfs, type FakeHost, type TempSysfs } from '../fixtures/host.js';
import { LineClient } from './line-client.js';

export { EpaError, EpaClient };

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

/**
 * A Python client of the one-shot protocol: connect, sendall(json.dumps(request)) with no
 * newline, one recv(4096), json.loads; then the daemon must close the connection. So the whole
 * reply comes in one read.
 */
export async function oneShot(socketPath: string, message: unknown): Promise<Record<string, unknown>> {
  const socket = await PythonSocket.connect(socketPath);
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

/** The dirs a daemon works in: a fake sysfs tree of the host, a state dir and a socket path. */
export class DaemonDirs {
  private constructor(
    readonly dir: string,
    private readonly tree: TempSysfs,
  ) {}

  static async create(host: FakeHost = SAMPLE): Promise<DaemonDirs> {
    const dir = await mkdtemp(join(tmpdir(), 'epa-test-'));
    return new DaemonDirs(dir, tempSysfs(host));
  }

  get socket(): string {
    return join(this.dir, 'epa.sock');
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  get stateFile(): string {
    return join(this.stateDir, 'state.json');
  }

  get sysfs(): string {
    return this.tree.path;
  }

  /** The config of a daemon on these dirs, with default limits. */
  config(overrides: Partial<DaemonConfig> = {}): DaemonConfig {
    return { ...TRANSPORT_DEFAULTS, socket: this.socket, stateDir: this.stateDir, sysfs: this.sysfs, ...overrides };
  }

  /** The command line of `serve` on these dirs, with more flags after. */
  serveArgs(extra: readonly string[] = []): string[] {
    return ['serve', '--socket', this.socket, '--state-dir', this.stateDir, '--sysfs', this.sysfs, ...extra];
  }

  /** The state file on disk, parsed. */
  async readState(): Promise<unknown> {
    return JSON.parse(await readFile(this.stateFile, 'utf8')) as unknown;
  }

  async cleanup(): Promise<void> {
    this.tree.cleanup();
    await rm(this.dir, { recursive: true, force: true });
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
  /** Replaces the system clock (a ManualClock moves time by hand). */
  readonly clock?: Clock;
  /** Files of the sysfs tree to overwrite before the start (path below the root → content). */
  readonly breakSysfs?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
}

/** A daemon in this process, on dirs of its own. */
export class TestDaemon {
  private readonly clients: { close(): void }[] = [];
  private shared: EpaClient | undefined;
  private running: Daemon | undefined;

  private constructor(
    readonly dirs: DaemonDirs,
    readonly config: DaemonConfig,
    private readonly logger: Logger,
    private readonly options: TestDaemonOptions,
  ) {}

  static async start(options: TestDaemonOptions = {}): Promise<TestDaemon> {
    const dirs = await DaemonDirs.create(options.host);
    const test = new TestDaemon(dirs, dirs.config(options.config), options.logger ?? silentLogger(), options);
    try {
      for (const [path, content] of Object.entries(options.breakSysfs ?? {})) await writeFile(join(dirs.sysfs, path), content);
      if (options.stateFile !== undefined) {
        await mkdir(test.config.stateDir, { recursive: true, mode: 0o700 });
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

  get dir(): string {
    return this.dirs.dir;
  }

  get socketPath(): string {
    return this.config.socket;
  }

  get sysfsPath(): string {
    return this.dirs.sysfs;
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

  /** A new raw connection whose every line is checked for stack traces, closed at cleanup. */
  async raw(): Promise<LineClient> {
    const client = await LineClient.connect(this.socketPath, { check: expectNoStack });
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
    const { writer, clock } = this.options;
    this.running = await startDaemon(this.config, this.logger, {
      ...(writer === undefined ? {} : { writer }),
      ...(clock === undefined ? {} : { clock }),
    });
  }

  /** Closes every client, stops the daemon and removes the temp dirs. */
  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    await this.stop();
    await this.dirs.cleanup();
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
