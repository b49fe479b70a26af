// The load generator, run as its own process (bench/load.ts forks it) so that the server being
// measured has the bench's main process to itself. Each connection keeps `window` requests
// outstanding; a reply is matched to its request by order and id, and only the prefix of a reply
// is read (its id and whether it is a result or an error), so big replies cost the client little.
import type { Socket } from 'node:net';
import { openUnixSocket } from '../src/client/index.js';
import { hrtime } from 'node:process';
import { histogram } from './stats.js';
import type { Mix } from './plan.js';
import type { Histogram } from 'hdr-histogram-js';

export interface LoadTask {
  readonly socketPath: string;
  readonly connections: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly mix: Mix;
  /** NUMA nodes of the host: connection i writes on node i mod nodes. */
  readonly nodes: number;
}

export interface LoadResult {
  /** Replies received during the measured window. */
  readonly calls: number;
  readonly seconds: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly max_us: number;
  /** Error replies (or replies out of order) at any time, warm-up included; a valid run has none. */
  readonly errors: number;
  readonly firstError?: string;
}

const REPLY_PREFIX = /^\{"jsonrpc":"2\.0","id":(\d+),"(result|error)"/;

/** The request body of the n-th request of connection `lane`. */
function requestOf(task: LoadTask, lane: number, n: number): string {
  if (task.mix === 'list') return '"method":"list_allocations","params":{}';
  if (task.mix === 'memory') return '"method":"get_memory_info","params":{}';
  const service = `"service_name":"bench-w${lane}"`;
  const node = lane % task.nodes;
  // Each call changes something: the count toggles between 1 and 2 on every second call of a kind.
  const count = 1 + (Math.floor(n / 2) % 2);
  return n % 2 === 0
    ? `"method":"allocate_numa_cores","params":{${service},"numa_node":${node},"num_of_cores":${count}}`
    : `"method":"allocate_hugepages","params":{${service},"node_id":${node},"size_kb":2048,"hugepages_requested":${count}}`;
}

type Phase = 'warmup' | 'measure' | 'drain';

class Run {
  phase: Phase = 'warmup';
  calls = 0;
  errors = 0;
  firstError: string | undefined;
  readonly latency: Histogram = histogram();
  private idle = 0;
  private finish: () => void = () => undefined;
  readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(readonly task: LoadTask) {}

  fail(text: string): void {
    this.errors++;
    this.firstError ??= text.slice(0, 300);
  }

  /** A connection has no request outstanding and will send no more. */
  laneIdle(): void {
    if (++this.idle === this.task.connections) this.finish();
  }
}

class Lane {
  private buffered = '';
  private readonly sent: { id: number; at: bigint }[] = [];
  private next = 0;
  /** Sends no more: the run is draining, or the server closed the connection. */
  private stopped = false;
  private done = false;

  constructor(
    private readonly run: Run,
    private readonly socket: Socket,
    private readonly index: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (error) => run.fail(`connection ${index}: ${error.message}`));
    socket.on('close', () => {
      if (this.sent.length === 0) return;
      run.fail(`connection ${index} closed with ${this.sent.length} requests outstanding`);
      this.sent.length = 0;
      this.stopped = true;
      this.drain();
    });
  }

  /** Tops the connection up to the window, in one write. */
  fill(): void {
    if (this.stopped) return;
    let out = '';
    while (this.sent.length < this.run.task.window) {
      const id = this.next++;
      out += `{"jsonrpc":"2.0","id":${id},${requestOf(this.run.task, this.index, id)}}\n`;
      this.sent.push({ id, at: hrtime.bigint() });
    }
    if (out !== '') this.socket.write(out);
  }

  /** Called once sending has stopped: a connection with nothing outstanding is done now. */
  drain(): void {
    this.stopped = true;
    if (this.sent.length > 0 || this.done) return;
    this.done = true;
    this.run.laneIdle();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let start = 0;
    for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n', start)) {
      this.onReply(this.buffered.slice(start, Math.min(end, start + 80)), () => this.buffered.slice(start, end));
      start = end + 1;
    }
    this.buffered = this.buffered.slice(start);
    if (this.stopped) this.drain();
    else this.fill();
  }

  private onReply(prefix: string, whole: () => string): void {
    const now = hrtime.bigint();
    const request = this.sent.shift();
    const match = REPLY_PREFIX.exec(prefix);
    let id: unknown;
    let isError: boolean;
    if (match) {
      id = Number(match[1]);
      isError = match[2] === 'error';
    } else {
      const reply = JSON.parse(whole()) as { id?: unknown; error?: unknown };
      id = reply.id;
      isError = reply.error !== undefined;
    }
    if (!request || id !== request.id) {
      this.run.fail(`connection ${this.index}: reply ${String(id)} when ${String(request?.id)} was due`);
    } else if (isError) {
      this.run.fail(whole());
    } else if (this.run.phase === 'measure') {
      this.run.calls++;
      this.run.latency.recordValue(Math.max(1, Math.round(Number(now - request.at) / 1000)));
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoad(task: LoadTask): Promise<LoadResult> {
  const run = new Run(task);
  const sockets = await Promise.all(Array.from({ length: task.connections }, () => openUnixSocket(task.socketPath)));
  const lanes = sockets.map((socket, i) => new Lane(run, socket, i));
  for (const lane of lanes) lane.fill();
  await sleep(task.warmupMs);
  run.phase = 'measure';
  const start = hrtime.bigint();
  await sleep(task.durationMs);
  run.phase = 'drain';
  const seconds = Number(hrtime.bigint() - start) / 1e9;
  for (const lane of lanes) lane.drain();
  await run.finished;
  for (const socket of sockets) socket.destroy();
  const h = run.latency;
  const result: LoadResult = {
    calls: run.calls,
    seconds,
    p50_us: h.getValueAtPercentile(50),
    p99_us: h.getValueAtPercentile(99),
    max_us: h.maxValue,
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
  };
  h.destroy();
  return result;
}

// Forked by bench/load.ts: one task per message, one result back for each.
if (process.send) {
  process.on('message', (task: LoadTask) => {
    void runLoad(task).then(
      (result) => process.send?.({ ok: true, result }),
      (error: unknown) => process.send?.({ ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
