// Clients that cost the daemon without asking much (one slow or silent client never delays the
// others): many idle connections, connections that trickle a request a byte at
// a time, a client that writes a lot and never reads, messages over the size limit. Meanwhile a
// normal client's latency is measured: a figure `make soak` reports and bounds, never one that
// `make test` asserts. Nothing here waits on the clock: the trickle is paced by the normal
// client's calls, memory is sampled after each of them, and every wait is for something the
// daemon does (a reply, a close); a daemon that never does it is caught by mocha's timeout.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EpaClient } from '../../src/client/index.js';
import { LineClient } from '../support/line-client.js';

const line = (id: number | string, method: string, params?: unknown) =>
  `${JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params })}\n`;

/** Opens n connections, a batch at a time so the listen backlog never overflows. */
export async function openMany(path: string, n: number, batch = 100): Promise<LineClient[]> {
  const clients: LineClient[] = [];
  for (let i = 0; i < n; i += batch) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => LineClient.connect(path)))));
  }
  return clients;
}

/**
 * The latencies (ms) of `calls` requests of a normal client, one after the other; `afterCall`
 * runs after each answered call (to sample memory, or to pace other clients).
 */
export async function normalClient(path: string, calls: number, service = 'normal', afterCall: (done: number) => void = () => undefined): Promise<number[]> {
  const client = await EpaClient.connect(path);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const began = performance.now();
      if (i % 3 === 0) await client.call('allocate_cores', { service_name: service, num_of_cores: 1 + (i % 2) });
      else await client.call(i % 3 === 1 ? 'list_allocations' : 'get_topology');
      latencies.push(performance.now() - began);
      afterCall(i + 1);
    }
  } finally {
    client.close();
  }
  return latencies;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Steps that other clients take in time with the normal client: one step per call it finishes. */
class Pace {
  #done = 0;
  #finished = false;
  #waiting: { readonly step: number; readonly wake: () => void }[] = [];

  /** The normal client finished its `done`-th call. */
  step(done: number): void {
    this.#done = done;
    this.#wake((w) => w.step <= done);
  }

  /** The normal client is done: from now on every step is free. */
  finish(): void {
    this.#finished = true;
    this.#wake(() => true);
  }

  /** Settles once the normal client has finished `step` calls (or all of its calls). */
  async until(step: number): Promise<void> {
    if (this.#finished) {
      // Still one turn of the event loop per step, so a trickle never becomes one write.
      await nextTurn();
      return;
    }
    if (this.#done >= step) return;
    await new Promise<void>((wake) => this.#waiting.push({ step, wake }));
  }

  #wake(due: (w: { step: number }) => boolean): void {
    const now = this.#waiting.filter(due);
    this.#waiting = this.#waiting.filter((w) => !due(w));
    for (const w of now) w.wake();
  }
}

export interface CrowdReport {
  readonly latencies: number[];
  readonly violations: string[];
}

/**
 * With `idle` silent connections and `slow` ones each trickling a request a byte per call of the
 * normal client (each byte handed to the kernel before the next), runs the normal client for
 * `calls` requests; then every slow connection must have its reply and every idle one must still
 * answer.
 */
export async function crowd(path: string, options: { idle: number; slow: number; calls: number }): Promise<CrowdReport> {
  const violations: string[] = [];
  const idle = await openMany(path, options.idle);
  const slow = await openMany(path, options.slow);
  const pace = new Pace();
  try {
    const trickling = slow.map(async (client, i) => {
      const bytes = [...line(`slow-${i}`, 'get_topology')];
      for (const [step, byte] of bytes.entries()) {
        await client.flush(byte);
        await pace.until(step + 1);
      }
      const reply = JSON.parse(await client.line()) as { id?: unknown };
      if (reply.id !== `slow-${i}`) violations.push(`slow connection ${i} got ${JSON.stringify(reply)}`);
      // Then it starts another request and never finishes it.
      await client.flush('{"jsonrpc":"2.0","id":"never","meth');
    });
    const trickles = trickling.map((t, i) => t.catch((error: unknown) => violations.push(`slow connection ${i}: ${(error as Error).message}`)));
    let latencies: number[];
    try {
      latencies = await normalClient(path, options.calls, 'normal', (done) => pace.step(done));
    } finally {
      pace.finish();
    }
    await Promise.all(trickles);
    const answered = await Promise.all(
      idle.map(async (client, i) => {
        client.write(line(i, 'get_topology'));
        // A connection the daemon closed fails here; one it never answers is mocha's timeout.
        return client.line().then(
          () => true,
          () => false,
        );
      }),
    );
    const lost = answered.filter((ok) => !ok).length;
    if (lost > 0) violations.push(`${lost} of ${options.idle} idle connections no longer answer`);
    return { latencies, violations };
  } finally {
    for (const client of [...idle, ...slow]) client.close();
  }
}

export interface NonReaderReport {
  readonly sentBytes: number;
  /** What left this process's buffers: read by the daemon or sitting in the kernel's. */
  readonly deliveredBytes: number;
  readonly rssGrowthBytes: number;
  readonly latencies: number[];
}

/**
 * A client writes `requests` pipelined requests and never reads a reply. Meanwhile a normal client
 * makes `calls` calls, and after each the daemon's resident memory is sampled (rss). A daemon that
 * kept reading would take in more with every call it serves, so more calls catch it surer.
 */
export async function nonReader(path: string, requests: number, calls: number, rss: () => number): Promise<NonReaderReport> {
  const baseline = rss();
  const client = await LineClient.connect(path);
  // Not reading: past what the stream buffers, the replies stay in the kernel and then the daemon.
  client.socket.pause();
  let sentBytes = 0;
  const chunk = Array.from({ length: 1000 }, (_, i) => line(i, 'get_topology')).join('');
  for (let i = 0; i < requests; i += 1000) {
    client.write(chunk);
    sentBytes += Buffer.byteLength(chunk);
  }
  let peak = baseline;
  const latencies = await normalClient(path, calls, 'beside-non-reader', () => (peak = Math.max(peak, rss())));
  const deliveredBytes = sentBytes - client.socket.writableLength;
  client.close();
  return { sentBytes, deliveredBytes, rssGrowthBytes: peak - baseline, latencies };
}

export interface OversizedReport {
  /** The reply to a whole line over the limit, and whether the connection then closed with nothing more. */
  readonly reply: string;
  readonly closedAfterReply: boolean;
  /** Bytes of an endless message with no newline written before the daemon closed the connection. */
  readonly streamedBeforeClose: number;
}

/**
 * A line of `lineBytes` and, on another connection, a message with no end, written until the
 * daemon hangs up or `streamLimitBytes` are written: both over the daemon's message limit.
 */
export async function oversized(path: string, lineBytes: number, streamLimitBytes: number): Promise<OversizedReport> {
  const big = await LineClient.connect(path);
  big.write(`{"jsonrpc":"2.0","id":1,"method":"get_topology","params":{"pad":"${'x'.repeat(lineBytes)}"}}\n`);
  const reply = await big.line();
  // Waits for the daemon to close the connection (mocha's timeout if it never does).
  const after = await big.rest();
  const closedAfterReply = after.lines.length === 0 && after.partial === '';

  const endless = await LineClient.connect(path);
  let streamed = 0;
  const piece = Buffer.alloc(64 * 1024, 'y');
  await endless.flush('{"jsonrpc":"2.0","id":2,"method":"get_topology","params":{"pad":"');
  while (!endless.isClosed && streamed < streamLimitBytes) {
    // Each piece waits until the kernel took it, or until the daemon hung up.
    const wrote = await Promise.race([endless.flush(piece).then(() => true, () => false), endless.closed.then(() => false)]);
    if (!wrote) await endless.closed;
    streamed += piece.length;
  }
  const gone = endless.isClosed;
  endless.close();
  return { reply, closedAfterReply, streamedBeforeClose: gone ? streamed : Infinity };
}
