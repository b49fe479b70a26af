// Clients that cost the daemon without asking much (SPEC section 3: one slow or silent client
// never delays the others): many idle connections, connections that trickle a request a byte at
// a time, a client that writes a lot and never reads, messages over the size limit. Meanwhile a
// normal client's latency is measured.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openUnixSocket, EpaClient } from '../../src/client/index.js';

const line = (id: number | string, method: string, params?: unknown) =>
  `${JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params })}\n`;

/** Settles when the socket closes, however it closes (events.once would reject on 'error'). */
const closed = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('close', () => resolve()));

/** Whether the promise settles within ms (the timer does not outlive it). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connection whose later errors (the daemon hanging up on a hostile client) are ignored. */
export async function openSocket(path: string): Promise<Socket> {
  const socket = await openUnixSocket(path);
  socket.on('error', () => undefined);
  return socket;
}

/** Opens n connections, a batch at a time so the listen backlog never overflows. */
export async function openMany(path: string, n: number, batch = 100): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += batch) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => openSocket(path)))));
  }
  return sockets;
}

/** Reads newline-ended replies off a socket. */
export function replies(socket: Socket): { next(timeoutMs: number): Promise<string> } {
  const lines: string[] = [];
  let buffer = '';
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    const parts = (buffer + text).split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
    wake?.();
  });
  socket.on('close', () => wake?.());
  return {
    async next(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (socket.destroyed) throw new Error('closed before a reply');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return lines.shift()!;
    },
  };
}

/** Sends text on a new connection and returns the first reply line. */
export async function firstReply(path: string, text: string, timeoutMs = 10_000): Promise<string> {
  const socket = await openSocket(path);
  try {
    const reader = replies(socket);
    socket.write(text);
    return await reader.next(timeoutMs);
  } finally {
    socket.destroy();
  }
}

/** The latencies (ms) of `calls` requests of a normal client, one after the other. */
export async function normalClient(path: string, calls: number, service = 'normal'): Promise<number[]> {
  const client = await EpaClient.connect(path);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const began = performance.now();
      if (i % 3 === 0) await client.call('allocate_cores', { service_name: service, num_of_cores: 1 + (i % 2) });
      else await client.call(i % 3 === 1 ? 'list_allocations' : 'get_topology');
      latencies.push(performance.now() - began);
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

export interface CrowdReport {
  readonly latencies: number[];
  readonly violations: string[];
}

/**
 * With `idle` silent connections and `slow` ones each trickling a request a byte every
 * `trickleMs`, runs a normal client for `calls` requests; then every slow connection must have its
 * reply and every idle one must still answer.
 */
export async function crowd(path: string, options: { idle: number; slow: number; trickleMs: number; calls: number }): Promise<CrowdReport> {
  const violations: string[] = [];
  const idle = await openMany(path, options.idle);
  const slow = await openMany(path, options.slow);
  try {
    const trickles = slow.map(async (socket, i) => {
      const reader = replies(socket);
      for (const byte of line(`slow-${i}`, 'get_topology')) {
        socket.write(byte);
        await sleep(options.trickleMs);
      }
      const reply = JSON.parse(await reader.next(5000)) as { id?: unknown };
      if (reply.id !== `slow-${i}`) violations.push(`slow connection ${i} got ${JSON.stringify(reply)}`);
      // Then it starts another request and never finishes it.
      socket.write('{"jsonrpc":"2.0","id":"never","meth');
    });
    const latencies = await normalClient(path, options.calls);
    await Promise.all(trickles.map((t, i) => t.catch((error: unknown) => violations.push(`slow connection ${i}: ${(error as Error).message}`))));
    const answered = await Promise.all(
      idle.map(async (socket, i) => {
        const reader = replies(socket);
        socket.write(line(i, 'get_topology'));
        return reader.next(10_000).then(
          () => true,
          () => false,
        );
      }),
    );
    const lost = answered.filter((ok) => !ok).length;
    if (lost > 0) violations.push(`${lost} of ${options.idle} idle connections no longer answer`);
    return { latencies, violations };
  } finally {
    for (const socket of [...idle, ...slow]) socket.destroy();
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
 * A client writes `requests` pipelined requests and never reads a reply. Meanwhile the daemon's
 * resident memory is sampled (rss) and a normal client is served.
 */
export async function nonReader(path: string, requests: number, watchMs: number, rss: () => number): Promise<NonReaderReport> {
  const baseline = rss();
  const socket = await openSocket(path);
  let sentBytes = 0;
  const chunk = Array.from({ length: 1000 }, (_, i) => line(i, 'get_topology')).join('');
  for (let i = 0; i < requests; i += 1000) {
    socket.write(chunk);
    sentBytes += Buffer.byteLength(chunk);
  }
  let peak = baseline;
  const sampling = (async () => {
    for (const end = Date.now() + watchMs; Date.now() < end; ) {
      peak = Math.max(peak, rss());
      await sleep(50);
    }
  })();
  const latencies = await normalClient(path, 50, 'beside-non-reader');
  await sampling;
  const deliveredBytes = sentBytes - socket.writableLength;
  socket.destroy();
  return { sentBytes, deliveredBytes, rssGrowthBytes: peak - baseline, latencies };
}

export interface OversizedReport {
  /** The reply to a whole line over the limit, and whether the connection then closed. */
  readonly reply: string;
  readonly closedAfterReply: boolean;
  /** Bytes of an endless message with no newline written before the daemon closed the connection. */
  readonly streamedBeforeClose: number;
}

/** A line of `lineBytes` and, on another connection, a message with no end: both over `limitBytes`. */
export async function oversized(path: string, lineBytes: number, streamLimitBytes: number): Promise<OversizedReport> {
  const big = await openSocket(path);
  const reader = replies(big);
  big.write(`{"jsonrpc":"2.0","id":1,"method":"get_topology","params":{"pad":"${'x'.repeat(lineBytes)}"}}\n`);
  const reply = await reader.next(10_000);
  const closedAfterReply = await within(closed(big), 5000);
  big.destroy();

  const endless = await openSocket(path);
  let streamed = 0;
  let gone = false;
  const hungUp = closed(endless).then(() => (gone = true));
  const piece = Buffer.alloc(64 * 1024, 'y');
  endless.write('{"jsonrpc":"2.0","id":2,"method":"get_topology","params":{"pad":"');
  while (!gone && streamed < streamLimitBytes) {
    if (!endless.write(piece)) await Promise.race([new Promise((resolve) => endless.once('drain', resolve)), hungUp]);
    streamed += piece.length;
  }
  endless.destroy();
  return { reply, closedAfterReply, streamedBeforeClose: gone ? streamed : Infinity };
}
