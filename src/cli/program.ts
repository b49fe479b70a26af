// The command line's grammar: commands, flags, their EPA_* variables and defaults.
// It turns what was typed into typed requests for the actions and does no I/O of its own, so
// tests can parse real argv and environments against recording actions.
import { Argument, Command, Option } from 'commander';
import { defaultSocketPath, defaultStateDir } from '../daemon/config.js';
import { TRANSPORT_DEFAULTS } from '../transport/index.js';
import type { DaemonConfig } from '../daemon/config.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../daemon/log-options.js';
import { jsonParams, octalMode, positiveInteger } from './parse.js';

export interface ServeRequest {
  readonly config: DaemonConfig;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

export interface DemoRequest {
  /** Where to listen; by default a socket in the demo's temp dir. */
  readonly socket?: string;
  /** Only write the sample host's sysfs tree into this dir and exit (for scripts and tests). */
  readonly writeSample?: string;
}

/** `call METHOD -`: the params are read from standard input. */
export const PARAMS_FROM_STDIN = Symbol('params from stdin');

export interface CallRequest {
  readonly socket: string;
  readonly method: string;
  readonly params: Record<string, unknown> | typeof PARAMS_FROM_STDIN;
}

export interface CheckPoolRequest {
  /** The general pool to check, as `snap set epa-orchestrator cpu-pool=…` would set it. */
  readonly pool: string;
  readonly sysfs: string;
  readonly stateDir: string;
  readonly cpuPool?: string;
  /** The housekeeping CPUs to check, as `snap set epa-orchestrator reserved-cpus=…` would set them. */
  readonly reservedCpus?: string;
}

export const VIEWS = ['status', 'topology', 'memory'] as const;
export type View = (typeof VIEWS)[number];

/** `status`, `topology`, `memory`: tables, or the raw results with --json. */
export interface TableRequest {
  readonly view: View;
  readonly socket: string;
  readonly json: boolean;
  /** status only: show this pool alone. */
  readonly pool?: string;
}

/** `nova-config`: get_nova_config of a service as nova.conf lines, or the raw result with --json. */
export interface NovaConfigRequest {
  readonly view: 'nova-config';
  readonly socket: string;
  readonly json: boolean;
  readonly service: string;
  /** The pool of the service's CPUs; the daemon's default (isolated) when absent. */
  readonly pool?: string;
}

/** `watch`: subscribe, then one line per allocation_changed notification (raw JSON with --json). */
export interface WatchRequest {
  readonly view: 'watch';
  readonly socket: string;
  readonly json: boolean;
}

/** A command that only reads from the daemon and prints what it says. */
export type ViewRequest = TableRequest | NovaConfigRequest | WatchRequest;

/** What each command does once its arguments are parsed. */
export interface Actions {
  serve(request: ServeRequest): Promise<void>;
  demo(request: DemoRequest): Promise<void>;
  call(request: CallRequest): Promise<void>;
  view(request: ViewRequest): Promise<void>;
  schema(outDir: string): Promise<void>;
  checkPool(request: CheckPoolRequest): Promise<void>;
}

/**
 * The serve flags as commander hands them over: the options below are named after the config's
 * fields, and an option without a value or default is absent, as an optional field is.
 */
type ServeFlags = DaemonConfig & { readonly logLevel: LogLevel; readonly logFormat: LogFormat };

function socketOption(): Option {
  return new Option('--socket <path>', 'the daemon socket').env('EPA_SOCKET').default(defaultSocketPath());
}

/**
 * `--socket` may come before the command (a global flag) or after it: given after, it wins;
 * given before, it wins over EPA_SOCKET and the default, which the command's own option holds.
 */
function socketOf(command: Command): string {
  const own = command.opts<{ socket: string }>().socket;
  const global = command.parent;
  if (command.getOptionValueSource('socket') === 'cli' || global?.getOptionValueSource('socket') !== 'cli') return own;
  return global.opts<{ socket: string }>().socket;
}

function stateOptions(): Option[] {
  return [
    new Option('--state-dir <dir>', 'directory of state.json').env('EPA_STATE_DIR').default(defaultStateDir()),
    new Option('--sysfs <dir>', 'sysfs root to read the host from').env('EPA_SYSFS').default('/sys'),
    new Option('--cpu-pool <cpulist>', 'allocatable CPUs, instead of devices/system/cpu/isolated').env('EPA_CPU_POOL'),
  ];
}

function reservedOption(): Option {
  return new Option('--reserved-cpus <cpulist>', 'housekeeping CPUs that no pool hands out, even one that lists them').env('EPA_RESERVED_CPUS');
}

function serveOptions(): Option[] {
  return [
    socketOption(),
    ...stateOptions(),
    new Option('--general-pool <cpulist>', 'ordinary CPUs offered as the pool "general" (apart from the default pool)').env(
      'EPA_GENERAL_POOL',
    ),
    reservedOption(),
    new Option('--socket-mode <mode>', 'file mode of the socket (octal)')
      .env('EPA_SOCKET_MODE')
      .argParser(octalMode)
      .default(TRANSPORT_DEFAULTS.socketMode, '0660'),
    new Option('--socket-group <group>', 'group (name or gid) that owns the socket').env('EPA_SOCKET_GROUP'),
    new Option('--max-message-bytes <n>', 'largest accepted message')
      .env('EPA_MAX_MESSAGE_BYTES')
      .argParser(positiveInteger)
      .default(TRANSPORT_DEFAULTS.maxMessageBytes),
    new Option('--max-connections <n>', 'most simultaneous connections')
      .env('EPA_MAX_CONNECTIONS')
      .argParser(positiveInteger)
      .default(TRANSPORT_DEFAULTS.maxConnections),
    new Option('--partial-timeout-ms <ms>', 'close a connection whose incomplete message is older than this')
      .env('EPA_PARTIAL_TIMEOUT_MS')
      .argParser(positiveInteger)
      .default(TRANSPORT_DEFAULTS.partialTimeoutMs),
    new Option('--idle-timeout-ms <ms>', 'close a connection idle for this long')
      .env('EPA_IDLE_TIMEOUT_MS')
      .argParser(positiveInteger)
      .default(TRANSPORT_DEFAULTS.idleTimeoutMs),
    new Option('--metrics-file <path>', 'rewrite this file with the metrics after each change and every 15 s (node_exporter textfile collector)').env(
      'EPA_METRICS_FILE',
    ),
    new Option('--metrics-listen <host:port>', 'serve GET /metrics here (a loopback address unless --metrics-listen-any)').env(
      'EPA_METRICS_LISTEN',
    ),
    new Option('--metrics-listen-any', 'let --metrics-listen take an address that is not loopback').env('EPA_METRICS_LISTEN_ANY'),
    new Option('--log-level <level>', 'least severe level logged').env('EPA_LOG_LEVEL').choices(LOG_LEVELS).default('info'),
    new Option('--log-format <format>', 'text for a terminal, json for collectors, journal for journald (also when JOURNAL_STREAM is set)')
      .env('EPA_LOG_FORMAT')
      .choices(LOG_FORMATS)
      .default('text'),
  ];
}

function toServeRequest(command: Command): ServeRequest {
  const { logLevel, logFormat, ...config } = command.opts<ServeFlags>();
  return { config: { ...config, socket: socketOf(command) }, logLevel, logFormat };
}

/** The params of `call`: a JSON object, or `-` to read them from standard input. */
function callParams(text: string): Record<string, unknown> | typeof PARAMS_FROM_STDIN {
  return text === '-' ? PARAMS_FROM_STDIN : jsonParams(text);
}

const VIEW_DESCRIPTIONS: Record<View, string> = {
  status: 'CPU figures per pool, hugepages per node, allocations per NUMA node and service (list_allocations of each pool, get_topology, get_memory_info)',
  topology: 'pool, online CPUs, and per NUMA node CPUs, cores and hugepage sizes (get_topology)',
  memory: 'hugepages per NUMA node and size: total, reserved, free (get_memory_info)',
};

export function buildProgram(actions: Actions, version: string): Command {
  const program = new Command('epa-orchestrator')
    .description('Hands out isolated CPU cores and hugepage reservations over JSON-RPC 2.0 on a Unix socket.')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .option('--socket <path>', 'the daemon socket, for every command (default: $EPA_SOCKET, or where the daemon puts it)');

  const serve = program
    .command('serve')
    .description('run the daemon (SIGTERM/SIGINT: stop; SIGHUP: re-read the CPU topology)')
    .action(async (_options: unknown, command: Command) => actions.serve(toServeRequest(command)));
  for (const option of serveOptions()) serve.addOption(option);

  program
    .command('demo')
    .description('serve a bundled sample host (2 nodes x 8 cores x 2 threads, hugepages) from a temp dir')
    .option('--socket <path>', 'the socket to listen on (default: in the temp dir)')
    .addOption(new Option('--write-sample <dir>', 'write the sample host sysfs tree into dir and exit').hideHelp())
    .action(async (options: DemoRequest, command: Command) => {
      const socket = command.getOptionValueSource('socket') === 'cli' ? options.socket : command.parent?.opts<{ socket?: string }>().socket;
      return actions.demo({ ...options, ...(socket === undefined ? {} : { socket }) });
    });

  program
    .command('call')
    .description('call one method and print its result as JSON (exit 1 on an error answer, 3 if the daemon cannot be reached)')
    .argument('<METHOD>', 'method name, e.g. allocate_cores or rpc.discover')
    .addArgument(new Argument('[JSON-PARAMS]', 'params as a JSON object, or - to read them from standard input').argParser(callParams).default({}, '{}'))
    .addOption(socketOption())
    .addHelpText(
      'after',
      `\nExamples:\n  $ epa-orchestrator call allocate_cores '{"service_name":"nova","num_of_cores":4}'\n  $ echo '{"service_name":"nova"}' | epa-orchestrator call release_service -`,
    )
    .action(async (method: string, params: CallRequest['params'], _options: unknown, command: Command) =>
      actions.call({ socket: socketOf(command), method, params }),
    );

  for (const view of VIEWS) {
    const command = program
      .command(view)
      .description(VIEW_DESCRIPTIONS[view])
      .addOption(socketOption())
      .option('--json', 'print the raw JSON results instead of tables', false)
      .action(async (options: { json: boolean; pool?: string }, command: Command) => actions.view({ view, ...options, socket: socketOf(command) }));
    if (view === 'status') command.option('--pool <name>', 'show only this pool ("isolated" or "general"); default: every configured pool');
  }

  program
    .command('nova-config')
    .description("a service's nova.conf options: [compute] cpu_dedicated_set and cpu_shared_set, [DEFAULT] reserved_huge_pages (get_nova_config)")
    .requiredOption('--service <name>', 'the service Nova runs as, e.g. nova')
    .option('--pool <name>', 'the pool of its CPUs (default: isolated)')
    .addOption(socketOption())
    .option('--json', 'print the raw JSON result instead of nova.conf lines', false)
    .addHelpText('after', '\nExample:\n  $ epa-orchestrator nova-config --service nova > /etc/nova/epa.conf')
    .action(async (options: { service: string; pool?: string; json: boolean }, command: Command) =>
      actions.view({ view: 'nova-config', ...options, socket: socketOf(command) }),
    );

  program
    .command('watch')
    .description('print each allocation change as it is made (subscribe), until Ctrl-C; exit 1 when the daemon goes away')
    .addOption(socketOption())
    .option('--json', 'print the raw allocation_changed params, one JSON object per line', false)
    .action(async (options: { json: boolean }, command: Command) => actions.view({ view: 'watch', json: options.json, socket: socketOf(command) }));

  program
    .command('schema')
    .description('write the JSON Schemas of every method and openrpc.json')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (options: { out: string }) => actions.schema(options.out));

  const checkPool = program
    .command('check-pool')
    .description(
      'check a general pool (and --reserved-cpus) before they are configured (exit 1 with the reason if they would be refused); changes nothing',
    )
    .argument('<LIST>', 'the cpulist, or "isolated" (or empty) for no general pool')
    .action(async (pool: string, options: Omit<CheckPoolRequest, 'pool'>) => actions.checkPool({ pool, ...options }));
  for (const option of [...stateOptions(), reservedOption()]) checkPool.addOption(option);

  return program;
}
