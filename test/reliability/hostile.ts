// Hostile input (docs/api.md: transport, errors): generated malformed messages sent pipelined over a few
// connections, and the check of every reply. A reply must be a JSON-RPC response (an error object,
// or a result for a valid but odd call), a batch of them, or a legacy one-shot answer; never a
// stack trace, never an internal error. A message carrying one of our ids must be answered once,
// with that id. After the flood each connection must still answer a plain request.
import fc from 'fast-check';
import { METHOD_NAMES, isMethodName, validateNotification, validateResult } from '../../schema/index.js';
import { EpaClient } from '../../src/client/index.js';
import { LineClient } from '../support/line-client.js';

export interface Hostile {
  readonly kind: string;
  /** The message for a given request id (one line, no newline in it). */
  render(id: string): Uint8Array;
  /** The reply must carry this message's id: it is a single request object that parses. */
  readonly answeredById: boolean;
  /** The method, when the message names a real one (to check a result against its schema). */
  readonly method?: string;
  /** A message of the one-shot protocol: the daemon answers it and closes, so it gets a connection of its own. */
  readonly oneShot?: boolean;
}

const encoder = new TextEncoder();
const LF = 0x0a;
const PARAM_NAMES = [
  'service_name',
  'num_of_cores',
  'percent',
  'numa_node',
  'node_id',
  'size_kb',
  'hugepages_requested',
  'pool',
  'preemption_policy',
] as const;
const ODD_METHODS = ['rpc.discover', 'rpc.other', '__proto__', 'toString', 'constructor', '', 'ALLOCATE_CORES', 'allocate_cores '];
const HUGE_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '9'.repeat(400),
  '-' + '9'.repeat(400),
  '123456789012345678901234567890',
  '9007199254740993',
  '1.7976931348623157e308',
  '4294967296',
  '0.5e1',
  '1E2',
];
/** Byte sequences that are not UTF-8: overlong, surrogate, out of range, stray continuation, cut short. */
const BAD_UTF8 = [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe], [0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];

const bytesOf = (text: string): Uint8Array => encoder.encode(text);
/** The wire form of a line: newlines inside would make it two messages. */
const oneLine = (bytes: Uint8Array): Uint8Array => bytes.map((b) => (b === LF ? 0x20 : b));
const request = (id: string, method: unknown, params?: unknown) =>
  JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
const realMethod = fc.constantFrom(...METHOD_NAMES);
const anyMethod = fc.oneof(realMethod, fc.constantFrom(...ODD_METHODS), fc.string({ maxLength: 20 }));
const jsonValue = fc.jsonValue({ maxDepth: 4 });

const fixed = (kind: string, text: string | Uint8Array): Hostile => ({
  kind,
  answeredById: false,
  render: () => (typeof text === 'string' ? bytesOf(text) : text),
});

const randomBytes = fc.uint8Array({ maxLength: 300 }).map((b) => fixed('random bytes', oneLine(b)));

/** Text made of JSON's own punctuation and words: drives the framer through every state. */
const tokenSoup = fc
  .array(fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', ' ', 'true', 'null', '0', '-1', 'e9', '"jsonrpc"', '"2.0"', '"id"', '"method"', '\r', '\t'), {
    maxLength: 80,
  })
  .map((parts) => fixed('token soup', parts.join('')));

const deepNesting = fc
  .record({ depth: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 2000 }) }, { weight: 1, arbitrary: fc.constant(100_000) }), shape: fc.constantFrom('open', 'arrays', 'objects', 'mixed') })
  .map(({ depth, shape }) => {
    switch (shape) {
      case 'open':
        return fixed('deep, never closed', '['.repeat(depth));
      case 'arrays':
        return fixed('deep arrays', '['.repeat(depth) + ']'.repeat(depth));
      case 'objects':
        return fixed('deep objects', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
      default:
        // A real request whose param is the deep value.
        return {
          kind: 'deep param',
          answeredById: true,
          method: 'allocate_cores',
          render: (id: string) =>
            bytesOf(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"allocate_cores","params":{"service_name":${'['.repeat(depth)}${']'.repeat(depth)},"num_of_cores":1}}`),
        };
    }
  });

const hugeNumbers = fc
  .record({ method: realMethod, param: fc.constantFrom(...PARAM_NAMES), value: fc.constantFrom(...HUGE_NUMBERS), inId: fc.boolean() })
  .map(({ method, param, value, inId }): Hostile =>
    inId
      ? fixed('huge number as id', `{"jsonrpc":"2.0","id":${value},"method":"get_topology"}`)
      : {
          kind: 'huge number as param',
          answeredById: true,
          method,
          render: (id) => bytesOf(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"${method}","params":{"service_name":"h","${param}":${value}}}`),
        },
  );

/** Real methods with params of any type, any name, any shape. */
const wrongParams = fc
  .record({
    method: realMethod,
    params: fc.oneof(
      { weight: 6, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 12 })), jsonValue, { maxKeys: 6 }) },
      { weight: 1, arbitrary: jsonValue },
    ),
  })
  .map(({ method, params }): Hostile => ({ kind: 'wrong params', answeredById: true, method, render: (id) => bytesOf(request(id, method, params)) }));

const envelope = fc
  .record(
    {
      jsonrpc: fc.oneof({ weight: 3, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: jsonValue }),
      id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.constant(null), jsonValue),
      method: fc.oneof(anyMethod, jsonValue),
      params: jsonValue,
    },
    { requiredKeys: [] },
  )
  .map((message) => fixed('odd envelope', JSON.stringify(message)));

const legacy = fc
  .record({ action: fc.oneof(realMethod, anyMethod, jsonValue), version: jsonValue, service_name: fc.oneof(fc.string({ maxLength: 8 }), jsonValue) }, { requiredKeys: ['action'] })
  .chain((base) => fc.dictionary(fc.constantFrom(...PARAM_NAMES), jsonValue, { maxKeys: 3 }).map((params) => ({ ...params, ...base })))
  .map((message): Hostile => ({ ...fixed('legacy one-shot', JSON.stringify(message)), oneShot: true }));

const batch = fc
  .array(fc.oneof(jsonValue, fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer(), method: anyMethod, params: jsonValue }, { requiredKeys: [] })), { maxLength: 12 })
  .map((entries) => fixed('batch', JSON.stringify(entries)));

/** A valid request cut short: unterminated strings, objects and escapes. */
const truncated = fc
  .record({ method: realMethod, cut: fc.nat() })
  .map(({ method, cut }) => {
    const text = request('cut', method, { service_name: 'svc "quoted" \\ back', num_of_cores: 2 });
    return fixed('truncated', text.slice(0, cut % text.length));
  });

/** A valid request with bytes flipped, inserted or removed. */
const mutated = fc
  .record({ method: realMethod, at: fc.array(fc.record({ pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'insert', 'delete') }), { minLength: 1, maxLength: 4 }) })
  .map(({ method, at }) => {
    const bytes = [...bytesOf(request('m', method, { service_name: 'vm', num_of_cores: 1, node_id: 0 }))];
    for (const { pos, byte, op } of at) {
      const i = pos % bytes.length;
      if (op === 'set') bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return fixed('mutated', oneLine(Uint8Array.from(bytes)));
  });

const invalidUtf8 = fc
  .record({ method: realMethod, bad: fc.constantFrom(...BAD_UTF8), where: fc.constantFrom('string', 'key', 'outside') })
  .map(({ method, bad, where }) => {
    const [before, after] = {
      string: [`{"jsonrpc":"2.0","id":1,"method":"${method}","params":{"service_name":"a`, `b"}}`],
      key: ['{"jsonrpc":"2.0","id":1,"method":"get_topology","params":{"', '":1}}'],
      outside: ['{"jsonrpc":"2.0","id":1,"method":"get_topology"}', ''],
    }[where] as [string, string];
    return fixed('invalid UTF-8', Uint8Array.from([...bytesOf(before), ...bad, ...bytesOf(after)]));
  });

const scalars = fc.oneof(fc.json(), fc.constantFrom('', ' ', '\t\r', 'null', '""', '[]', '{}', '[[]]', '[{}]', '{}{}', '{} {}', '[1,]', '{"a":1,}')).map((text) => fixed('JSON scalar or oddity', text));

/** Every kind, weighted so most messages are small and a few are 100,000 levels deep. */
export const hostileMessage: fc.Arbitrary<Hostile> = fc.oneof(
  { weight: 8, arbitrary: randomBytes },
  { weight: 8, arbitrary: tokenSoup },
  { weight: 1, arbitrary: deepNesting },
  { weight: 6, arbitrary: hugeNumbers },
  { weight: 12, arbitrary: wrongParams },
  { weight: 8, arbitrary: envelope },
  { weight: 5, arbitrary: legacy },
  { weight: 5, arbitrary: batch },
  { weight: 6, arbitrary: truncated },
  { weight: 8, arbitrary: mutated },
  { weight: 5, arbitrary: invalidUtf8 },
  { weight: 4, arbitrary: scalars },
);

const JSONRPC_CODES = new Set([-32700, -32600, -32601, -32602]);
const isDomainCode = (code: number) => code <= -32001 && code >= -32099;
const isId = (id: unknown) => id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const STACK = [/^\s*at /m, /\bat \S+ \(/, /\.[cm]?[jt]s:\d/, /node:internal/];

/** What is wrong with one response object, or undefined. Records the id it answers. */
function responseProblem(value: unknown, methods: ReadonlyMap<string, string>, seen: Map<unknown, number>): string | undefined {
  if (!isObject(value)) return 'a response that is not an object';
  const keys = Object.keys(value).sort().join(',');
  // A generated `subscribe` is a real one: the changes that follow reach this connection.
  if (keys === 'jsonrpc,method,params') return notificationProblem(value);
  if (keys !== 'error,id,jsonrpc' && keys !== 'id,jsonrpc,result') return `response members ${keys}`;
  if (value.jsonrpc !== '2.0') return `jsonrpc ${JSON.stringify(value.jsonrpc)}`;
  if (!isId(value.id)) return `id ${JSON.stringify(value.id)}`;
  seen.set(value.id, (seen.get(value.id) ?? 0) + 1);
  if ('error' in value) {
    const error = value.error;
    if (!isObject(error) || typeof error.code !== 'number' || typeof error.message !== 'string' || error.message === '') {
      return `error object ${JSON.stringify(error)}`;
    }
    const extra = Object.keys(error).filter((k) => k !== 'code' && k !== 'message' && k !== 'data');
    if (extra.length > 0) return `error members ${extra.join(',')}`;
    if (error.code === -32603) return 'an internal error (-32603): some input reached a failure the daemon does not expect';
    if (!JSONRPC_CODES.has(error.code) && !isDomainCode(error.code)) return `error code ${error.code}`;
    return undefined;
  }
  const method = typeof value.id === 'string' ? methods.get(value.id) : undefined;
  if (method !== undefined && isMethodName(method)) {
    const verdict = validateResult(method, value.result);
    if (!verdict.ok) return `${method} result does not match its schema: ${JSON.stringify(verdict.errors)}`;
  }
  return undefined;
}

/** What is wrong with a notification the daemon sent, or undefined. */
function notificationProblem(value: Record<string, unknown>): string | undefined {
  if (value.jsonrpc !== '2.0') return `jsonrpc ${JSON.stringify(value.jsonrpc)}`;
  const verdict = validateNotification(String(value.method), value.params);
  if (verdict === undefined) return `a notification the daemon does not define: ${String(value.method)}`;
  return verdict.ok ? undefined : `${String(value.method)} params do not match their schema: ${JSON.stringify(verdict.errors)}`;
}

/** What is wrong with one reply line, or undefined. */
export function replyProblem(line: string, methods: ReadonlyMap<string, string>, seen: Map<unknown, number>): string | undefined {
  const stack = STACK.find((pattern) => pattern.test(line));
  if (stack) return `looks like a stack trace (${stack.source})`;
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (Array.isArray(reply)) {
    if (reply.length === 0) return 'an empty batch reply';
    for (const entry of reply) {
      const problem = responseProblem(entry, methods, seen);
      if (problem) return `in a batch reply: ${problem}`;
    }
    return undefined;
  }
  if (isObject(reply) && !('jsonrpc' in reply) && reply.version === '1.0') {
    return 'error' in reply && typeof reply.error !== 'string' ? `legacy error ${JSON.stringify(reply.error)}` : undefined;
  }
  return responseProblem(reply, methods, seen);
}

export interface FloodReport {
  readonly seed: number;
  messages: number;
  bytes: number;
  replies: number;
  /** Messages of each kind. */
  readonly kinds: Record<string, number>;
  readonly ms: number[];
  readonly violations: string[];
}

export function emptyFloodReport(seed: number): FloodReport {
  return { seed, messages: 0, bytes: 0, replies: 0, kinds: {}, ms: [], violations: [] };
}

const sentinelId = (connection: number) => `sentinel-${connection}`;

/**
 * Sends `count` generated messages over `connections` connections, each connection's share written
 * at once (pipelined), then a plain request on each; checks every reply up to that one's. It waits
 * for every reply without a deadline of its own (mocha's timeout, or the soak run's, ends a hang).
 */
export async function flood(socketPath: string, count: number, connections: number, seed: number, report: FloodReport): Promise<void> {
  const began = Date.now();
  const sample = fc.sample(hostileMessage, { numRuns: count, seed });
  const methods = new Map<string, string>();
  const lanes: Uint8Array[][] = Array.from({ length: connections }, () => []);
  const oneShots: Uint8Array[] = [];
  const expected = new Set<string>();
  sample.forEach((message, i) => {
    const id = `h-${seed}-${report.messages + i}`;
    const bytes = message.render(id);
    if (message.answeredById) expected.add(id);
    if (message.method !== undefined) methods.set(id, message.method);
    report.kinds[message.kind] = (report.kinds[message.kind] ?? 0) + 1;
    report.bytes += bytes.length + 1;
    if (message.oneShot) oneShots.push(bytes);
    else lanes[i % connections]!.push(bytes);
  });
  report.messages += count;
  const seen = new Map<unknown, number>();
  const onReply = (line: string) => {
    report.replies++;
    const problem = replyProblem(line, methods, seen);
    if (problem && report.violations.length < 50) report.violations.push(`${problem}: ${line.slice(0, 300)}`);
  };
  const violation = (where: string) => (error: unknown) => {
    if (report.violations.length < 50) report.violations.push(`${where}: ${(error as Error).message}`);
  };
  await Promise.all([
    ...lanes.map((lines, lane) => sendLane(socketPath, lines, lane, onReply).catch(violation(`connection ${lane}`))),
    // One-shot clients, `connections` at a time, each on a connection of its own.
    ...Array.from({ length: connections }, async (_, worker) => {
      for (let i = worker; i < oneShots.length; i += connections) {
        await sendOneShot(socketPath, oneShots[i]!, onReply).catch(violation(`one-shot ${i}`));
      }
    }),
  ]);
  for (const id of expected) {
    const times = seen.get(id) ?? 0;
    if (times !== 1 && report.violations.length < 50) report.violations.push(`request ${id} answered ${times} times`);
  }
  report.ms.push(Date.now() - began);
}

/** Some generated messages are valid allocations: what runs after a flood starts from an empty ledger. */
export async function releaseEverything(path: string): Promise<void> {
  const client = await EpaClient.connect(path);
  try {
    const list = await client.list_allocations();
    for (const { service_name } of list.allocations) await client.release_service({ service_name });
  } finally {
    client.close();
  }
}

/** Sends one message without a newline, as the Python clients do; the reply must be one line, then the close. */
async function sendOneShot(socketPath: string, message: Uint8Array, onReply: (line: string) => void): Promise<void> {
  const client = await LineClient.connect(socketPath);
  try {
    client.write(message);
    const { lines, partial } = await client.rest();
    if (lines.length !== 1 || partial !== '') {
      const text = [...lines, partial].join('\n');
      throw new Error(`expected one reply line before the close, got ${JSON.stringify(text.slice(0, 300))}`);
    }
    onReply(lines[0]!);
  } finally {
    client.close();
  }
}

/** Writes every line then a sentinel request; hands each reply line over until the sentinel's comes back. */
async function sendLane(socketPath: string, lines: readonly Uint8Array[], lane: number, onReply: (line: string) => void): Promise<void> {
  const client = await LineClient.connect(socketPath);
  try {
    for (const line of lines) {
      client.write(line);
      client.write('\n');
    }
    client.send({ jsonrpc: '2.0', id: sentinelId(lane), method: 'get_topology' });
    for (;;) {
      const line = await client.line().catch(() => {
        throw new Error('the daemon closed the connection before the sentinel reply');
      });
      if (line.includes(`"${sentinelId(lane)}"`)) return;
      onReply(line);
    }
  } finally {
    client.close();
  }
}
