// The CLI's sentences: an error answer, a failed connection, the demo's instructions. Pure.
import type { FakeHost } from '../topology/fake/index.js';
import { formatJson, formatSizeKb } from './table.js';

export interface RpcErrorLike {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** "error -32002: <message>", then the error's data as JSON when it has some. */
export function formatRpcError(error: RpcErrorLike): string {
  const head = `error ${error.code}: ${error.message}`;
  return error.data === undefined ? head : `${head}\ndata: ${formatJson(error.data).trimEnd()}`;
}

/** Why connecting to the daemon's socket failed (by its errno), and what to do about it. */
export function connectFailure(socket: string, errno: string | undefined, detail: string): string {
  switch (errno) {
    case 'ENOENT':
      return `no daemon socket at ${socket}: is the daemon running? (start it with "epa-orchestrator serve", or point --socket or EPA_SOCKET at its socket)`;
    case 'ECONNREFUSED':
      return `nothing answers on ${socket}: the daemon is not running (the socket file is left over from an earlier one)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${socket}: run as root or as a member of the socket's group`;
    default:
      return detail;
  }
}

/** Quotes a word for a POSIX shell when it needs it, so printed commands work when pasted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One line about a described host: its nodes, pool and per-node hugepages. */
export function describeHost(host: FakeHost): string {
  const nodes = host.nodes ?? [];
  const nodeList = nodes.map((n) => `node ${n.id} = ${n.cpus.toString()}`).join(', ');
  const pages = nodes
    .map((n) => {
      const pools = host.hugepages.filter((h) => h.node_id === n.id);
      return `node ${n.id}: ${pools.length === 0 ? 'none' : pools.map((h) => `${h.free_kernel} x ${formatSizeKb(h.size_kb)}`).join(', ')}`;
    })
    .join('; ');
  return `${nodes.length} NUMA nodes (${nodeList}), pool ${host.isolated?.toString() ?? '(none)'}, free hugepages ${pages}`;
}

export interface DemoInfo {
  /** How to run this program again from the user's shell, e.g. ./bin/epa-orchestrator. */
  readonly program: string;
  readonly socket: string;
  readonly sysfs: string;
  readonly stateDir: string;
  /** What Ctrl-C removes. */
  readonly tempDir: string;
  readonly host: string;
}

export function demoText(info: DemoInfo): string {
  const socket = shellQuote(info.socket);
  const call = (method: string, params: object) =>
    `  ${info.program} call ${method} ${shellQuote(JSON.stringify(params))} --socket ${socket}`;
  const jsonRpc = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list_allocations', params: {} });
  const legacy = JSON.stringify({ version: '1.0', action: 'list_allocations', service_name: 'demo' });
  return [
    `epa-orchestrator demo: serving the sample host: ${info.host}.`,
    '',
    `  socket: ${info.socket}`,
    `  sysfs:  ${info.sysfs}`,
    `  state:  ${info.stateDir}`,
    '',
    'Try, from another terminal:',
    call('allocate_cores', { service_name: 'nova', num_of_cores: 4 }),
    call('allocate_numa_cores', { service_name: 'ovs', numa_node: 1, num_of_cores: 2 }),
    call('allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 }),
    `  ${info.program} status --socket ${socket}`,
    '',
    'or speak JSON-RPC 2.0 (one message per line) or the older one-shot protocol (no newline) directly:',
    `  echo ${shellQuote(jsonRpc)} | socat - UNIX-CONNECT:${socket}`,
    `  printf %s ${shellQuote(legacy)} | socat - UNIX-CONNECT:${socket}`,
    '',
    `Ctrl-C stops the demo and removes ${info.tempDir}.`,
    '',
  ].join('\n');
}
