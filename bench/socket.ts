// Sections 2 and 3: the daemon over its socket, and the bare echo server it is compared with,
// both driven by the same forked load client. For each connection count the echo server, then
// list_allocations, get_memory_info and the write mix run back to back, so each ratio compares
// runs made under the same load of the machine. Every daemon run starts afresh from the same state file, with real fsyncs
// in a temp dir under os.tmpdir().
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRANSPORT_DEFAULTS } from '../src/transport/index.js';
import { startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/daemon/logger.js';
import { STATE_FILE, encodeState } from '../src/state/index.js';
import { tempSysfs } from '../src/topology/fake/index.js';
import { startEchoServer } from './echo-server.js';
import { LoadClient } from './load.js';
import type { LoadResult, LoadTask } from './load-client.js';
import { DAEMON_HOST, DAEMON_LEDGER, type Mix, type Plan } from './plan.js';
import { describeHost, syntheticHost, syntheticLedger } from './synthetic.js';

export type Server = 'echo' | 'daemon';

const MIXES: readonly Mix[] = ['list', 'memory', 'write'];

export interface SocketRow {
  readonly server: Server;
  /** The echo server is driven with the list mix's requests (it answers every one alike). */
  readonly mix: Mix;
  readonly connections: number;
  readonly calls: number;
  readonly calls_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  /** calls_per_s over the echo server's at the same connection count; null for the echo server. */
  readonly ratio_to_echo: number | null;
}

function rowOf(server: Server, mix: Mix, task: LoadTask, result: LoadResult, echo: SocketRow | undefined): SocketRow {
  if (result.errors > 0) {
    throw new Error(`${server} ${mix} with ${task.connections} connections: ${result.errors} failed calls, first: ${result.firstError ?? '?'}`);
  }
  const callsPerS = result.calls / result.seconds;
  return {
    server,
    mix,
    connections: task.connections,
    calls: result.calls,
    calls_per_s: callsPerS,
    p50_us: result.p50_us,
    p99_us: result.p99_us,
    ratio_to_echo: echo ? callsPerS / echo.calls_per_s : null,
  };
}

export async function benchSocket(plan: Plan, onRow: (row: SocketRow) => void = () => undefined): Promise<SocketRow[]> {
  const base = await mkdtemp(join(tmpdir(), 'epa-bench-'));
  const sysfs = tempSysfs(describeHost(DAEMON_HOST));
  const stateText = encodeState(syntheticLedger(syntheticHost(DAEMON_HOST), DAEMON_LEDGER).ledger, new Date());
  const client = LoadClient.start();
  const rows: SocketRow[] = [];
  let runs = 0;
  const taskOf = (mix: Mix, connections: number, socketPath: string): LoadTask => ({
    socketPath,
    connections,
    window: plan.socket.window,
    warmupMs: plan.socket.warmupMs,
    durationMs: plan.socket.durationMs,
    mix,
    nodes: DAEMON_HOST.nodes,
  });
  const add = (row: SocketRow) => {
    rows.push(row);
    onRow(row);
    return row;
  };

  const runEcho = async (connections: number, record = add): Promise<SocketRow> => {
    const socketPath = join(base, `echo-${runs++}.sock`);
    const server = await startEchoServer(socketPath);
    try {
      const task = taskOf('list', connections, socketPath);
      return record(rowOf('echo', 'list', task, await client.run(task), undefined));
    } finally {
      await server.close();
    }
  };

  const runDaemon = async (mix: Mix, connections: number, echo: SocketRow, record = add): Promise<void> => {
    const dir = join(base, `daemon-${runs++}`);
    const stateDir = join(dir, 'state');
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFile(join(stateDir, STATE_FILE), stateText);
    const socketPath = join(dir, 'epa.sock');
    const daemon = await startDaemon({ ...TRANSPORT_DEFAULTS, socket: socketPath, stateDir, sysfs: sysfs.path }, silentLogger());
    try {
      const task = taskOf(mix, connections, socketPath);
      record(rowOf('daemon', mix, task, await client.run(task), echo));
    } finally {
      await daemon.stop();
    }
  };

  try {
    // One unrecorded pass first: the daemon's code (and the echo server's) is optimised by the JIT
    // over its first seconds, and a daemon on a host runs warm; without it the first rows measure
    // the compiler.
    const discard = (row: SocketRow) => row;
    for (const connections of plan.socket.connections) {
      const echo = await runEcho(connections, discard);
      for (const mix of MIXES) await runDaemon(mix, connections, echo, discard);
    }
    for (const connections of plan.socket.connections) {
      const echo = await runEcho(connections);
      for (const mix of MIXES) await runDaemon(mix, connections, echo);
    }
  } finally {
    await client.close();
    sysfs.cleanup();
    await rm(base, { recursive: true, force: true });
  }
  return rows;
}
