import { expect } from 'chai';
import { CommanderError } from 'commander';
import { defaultSocketPath, defaultStateDir } from '../../src/daemon/config.js';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Actions } from '../../src/cli/program.js';

// Every variable the command line reads, cleared around each parse so the host's own do not leak in.
const ENV_NAMES = [
  'EPA_SOCKET',
  'EPA_STATE_DIR',
  'EPA_SYSFS',
  'EPA_CPU_POOL',
  'EPA_GENERAL_POOL',
  'EPA_RESERVED_CPUS',
  'EPA_SOCKET_MODE',
  'EPA_SOCKET_GROUP',
  'EPA_MAX_MESSAGE_BYTES',
  'EPA_MAX_CONNECTIONS',
  'EPA_PARTIAL_TIMEOUT_MS',
  'EPA_IDLE_TIMEOUT_MS',
  'EPA_LOG_LEVEL',
  'EPA_LOG_FORMAT',
  'SNAP_DATA',
] as const;

interface Reached {
  readonly action: keyof Actions;
  readonly request: unknown;
}

/** Parses `args` as typed after the program name, with `env` as the only EPA_* variables. */
async function parse(args: string[], env: Record<string, string> = {}): Promise<Reached> {
  const saved = ENV_NAMES.map((name) => [name, process.env[name]] as const);
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const reached: Reached[] = [];
    const record =
      (action: keyof Actions) =>
      (request: unknown): Promise<void> => {
        reached.push({ action, request });
        return Promise.resolve();
      };
    const program = buildProgram(
      { serve: record('serve'), demo: record('demo'), call: record('call'), view: record('view'), schema: record('schema'), checkPool: record('checkPool') },
      '9.9.9',
    );
    const quiet = { writeOut: () => undefined, writeErr: () => undefined };
    for (const command of [program, ...program.commands]) command.configureOutput(quiet);
    await program.parseAsync(args, { from: 'user' });
    expect(reached).to.have.length(1);
    return reached[0]!;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function rejection(args: string[], env: Record<string, string> = {}): Promise<CommanderError> {
  try {
    await parse(args, env);
  } catch (error) {
    expect(error).to.be.instanceOf(CommanderError);
    return error as CommanderError;
  }
  throw new Error(`parsing ${args.join(' ')} succeeded`);
}

function withoutEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ENV_NAMES) delete env[name];
  return env;
}

// Every limit but the in-flight cap and a subscriber's backlog, which have no flag.
const NO_FLAG: readonly string[] = ['maxInFlightPerConnection', 'maxPushBacklogBytes'];
const SERVE_LIMITS = Object.fromEntries(Object.entries(TRANSPORT_DEFAULTS).filter(([name]) => !NO_FLAG.includes(name)));

describe('cli program', () => {
  describe('serve', () => {
    it('uses the defaults of the daemon config when nothing is given', async () => {
      expect(await parse(['serve'])).to.deep.equal({
        action: 'serve',
        request: {
          config: {
            socket: defaultSocketPath(withoutEnv()),
            stateDir: defaultStateDir(withoutEnv()),
            sysfs: '/sys',
            ...SERVE_LIMITS,
          },
          logLevel: 'info',
          logFormat: 'text',
        },
      });
    });

    it('defaults the socket and the state dir to $SNAP_DATA/data inside a snap', async () => {
      const { request } = await parse(['serve'], { SNAP_DATA: '/var/snap/epa-orchestrator/12' });
      expect(request).to.nested.include({
        'config.socket': '/var/snap/epa-orchestrator/12/data/epa.sock',
        'config.stateDir': '/var/snap/epa-orchestrator/12/data',
      });
    });

    const fromEnv = {
      EPA_SOCKET: '/env/epa.sock',
      EPA_STATE_DIR: '/env/state',
      EPA_SYSFS: '/env/sys',
      EPA_CPU_POOL: '4-7',
      EPA_GENERAL_POOL: '0-1',
      EPA_RESERVED_CPUS: '0,16',
      EPA_SOCKET_MODE: '0600',
      EPA_SOCKET_GROUP: 'epa',
      EPA_MAX_MESSAGE_BYTES: '4096',
      EPA_MAX_CONNECTIONS: '8',
      EPA_PARTIAL_TIMEOUT_MS: '500',
      EPA_IDLE_TIMEOUT_MS: '60000',
      EPA_LOG_LEVEL: 'debug',
      EPA_LOG_FORMAT: 'json',
    };

    it('reads every setting from its EPA_* variable', async () => {
      expect((await parse(['serve'], fromEnv)).request).to.deep.equal({
        config: {
          socket: '/env/epa.sock',
          stateDir: '/env/state',
          sysfs: '/env/sys',
          cpuPool: '4-7',
          generalPool: '0-1',
          reservedCpus: '0,16',
          socketMode: 0o600,
          socketGroup: 'epa',
          maxMessageBytes: 4096,
          maxConnections: 8,
          partialTimeoutMs: 500,
          idleTimeoutMs: 60000,
        },
        logLevel: 'debug',
        logFormat: 'json',
      });
    });

    it('lets a flag win over its variable', async () => {
      const flags = [
        ['--socket', '/flag/epa.sock'],
        ['--state-dir', '/flag/state'],
        ['--sysfs', '/flag/sys'],
        ['--cpu-pool', '2-3'],
        ['--general-pool', '0,16'],
        ['--reserved-cpus', '2-3,18-19'],
        ['--socket-mode', '660'],
        ['--socket-group', '123'],
        ['--max-message-bytes', '1024'],
        ['--max-connections', '2'],
        ['--partial-timeout-ms', '100'],
        ['--idle-timeout-ms', '200'],
        ['--log-level', 'warn'],
        ['--log-format', 'text'],
      ].flat();
      expect((await parse(['serve', ...flags], fromEnv)).request).to.deep.equal({
        config: {
          socket: '/flag/epa.sock',
          stateDir: '/flag/state',
          sysfs: '/flag/sys',
          cpuPool: '2-3',
          generalPool: '0,16',
          reservedCpus: '2-3,18-19',
          socketMode: 0o660,
          socketGroup: '123',
          maxMessageBytes: 1024,
          maxConnections: 2,
          partialTimeoutMs: 100,
          idleTimeoutMs: 200,
        },
        logLevel: 'warn',
        logFormat: 'text',
      });
    });

    it('refuses malformed values, from a flag or from a variable', async () => {
      const cases: [string[], Record<string, string>, RegExp][] = [
        [['--socket-mode', '999'], {}, /--socket-mode.*octal/],
        [['--socket-mode', '06600'], {}, /--socket-mode/],
        [['--max-connections', '0'], {}, /--max-connections.*positive integer/],
        [['--max-message-bytes', '1e6'], {}, /--max-message-bytes/],
        [['--log-level', 'verbose'], {}, /--log-level.*verbose/],
        [[], { EPA_LOG_FORMAT: 'xml' }, /--log-format.*xml/],
        [[], { EPA_IDLE_TIMEOUT_MS: '-5' }, /--idle-timeout-ms/],
      ];
      for (const [flags, env, message] of cases) {
        const error = await rejection(['serve', ...flags], env);
        expect(error.exitCode, flags.join(' ')).to.equal(1);
        expect(error.message).to.match(message);
      }
    });
  });

  describe('check-pool', () => {
    it('takes --reserved-cpus, or EPA_RESERVED_CPUS, beside the pool to check', async () => {
      expect((await parse(['check-pool', '0-1', '--reserved-cpus', '2,18', '--sysfs', '/s', '--state-dir', '/d'])).request).to.deep.equal({
        pool: '0-1',
        sysfs: '/s',
        stateDir: '/d',
        reservedCpus: '2,18',
      });
      expect((await parse(['check-pool', 'isolated'], { EPA_RESERVED_CPUS: '0' })).request).to.include({ pool: 'isolated', reservedCpus: '0' });
    });
  });

  describe('call', () => {
    it('passes the method and the JSON params, {} when none are given', async () => {
      expect(await parse(['call', 'allocate_cores', '{"service_name":"nova","num_of_cores":4}', '--socket', '/s'])).to.deep.equal({
        action: 'call',
        request: { socket: '/s', method: 'allocate_cores', params: { service_name: 'nova', num_of_cores: 4 } },
      });
      expect((await parse(['call', 'get_topology'], { EPA_SOCKET: '/env.sock' })).request).to.deep.equal({
        socket: '/env.sock',
        method: 'get_topology',
        params: {},
      });
    });

    it('refuses params that are not a JSON object', async () => {
      expect((await rejection(['call', 'list_allocations', '{"a":'])).message).to.match(/JSON-PARAMS.*not valid JSON/);
      expect((await rejection(['call', 'list_allocations', '[1]'])).message).to.match(/expected a JSON object/);
      expect((await rejection(['call', 'list_allocations', 'null'])).message).to.match(/expected a JSON object/);
      expect((await rejection(['call'])).message).to.match(/missing required argument 'METHOD'/);
    });
  });

  it('passes the view and --json of status, topology and memory', async () => {
    expect(await parse(['status', '--socket', '/s'])).to.deep.equal({
      action: 'view',
      request: { view: 'status', socket: '/s', json: false },
    });
    expect((await parse(['topology', '--json', '--socket', '/s'])).request).to.deep.equal({ view: 'topology', socket: '/s', json: true });
    expect((await parse(['memory'], { EPA_SOCKET: '/e' })).request).to.deep.equal({ view: 'memory', socket: '/e', json: false });
    expect((await parse(['status', '--pool', 'general', '--socket', '/s'])).request).to.deep.equal({
      view: 'status',
      socket: '/s',
      json: false,
      pool: 'general',
    });
  });

  it('passes demo and schema their options, and requires schema --out', async () => {
    expect(await parse(['demo'])).to.deep.equal({ action: 'demo', request: {} });
    expect((await parse(['demo', '--write-sample', '/tmp/x'])).request).to.deep.equal({ writeSample: '/tmp/x' });
    expect(await parse(['schema', '--out', 'dir'])).to.deep.equal({ action: 'schema', request: 'dir' });
    expect((await rejection(['schema'])).message).to.match(/--out/);
  });

  it('answers --help and --version with exit code 0, and an unknown command with a usage error', async () => {
    expect((await rejection(['--version'])).exitCode).to.equal(0);
    expect((await rejection(['serve', '--help'])).exitCode).to.equal(0);
    const unknown = await rejection(['stat']);
    expect(unknown.exitCode).to.equal(1);
    expect(unknown.message).to.match(/unknown command 'stat'/);
  });
});
