// Runs the calls of session.ts against real daemons and keeps the text of both sides: SESSION over
// JSON-RPC on one connection, then the envelope examples; SESSION again in the one-shot protocol
// on a second fresh daemon, then the one-shot examples; and on a third, the notifications a
// subscribed connection receives while another one makes changes.
import { withSampleDaemon } from './sample-daemon.js';
import { ENVELOPE_EXAMPLES, NOTIFICATION_CHANGES, ONE_SHOT_EXAMPLES, SESSION, type Call } from './session.js';
import { LineConnection, oneShot } from './wire.js';

export interface Exchange {
  readonly sent: string;
  /** The reply line, without its newline. */
  readonly received: string;
}

export interface Captured {
  /** One per SESSION call; call i has id i + 1. */
  readonly jsonRpc: readonly Exchange[];
  /** One per SESSION call. */
  readonly oneShot: readonly Exchange[];
  /** One per ENVELOPE_EXAMPLES entry. */
  readonly envelope: readonly Exchange[];
  /** One per ONE_SHOT_EXAMPLES entry. */
  readonly oneShotRules: readonly Exchange[];
  readonly notifications: NotificationsExample;
}

/** A subscribed connection, and what it receives while another makes NOTIFICATION_CHANGES. */
export interface NotificationsExample {
  readonly subscribe: Exchange;
  /** One per NOTIFICATION_CHANGES entry: its exchange on the other connection, and the notification lines it caused. */
  readonly changes: readonly { readonly exchange: Exchange; readonly notifications: readonly string[] }[];
  readonly unsubscribe: Exchange;
}

function jsonRpcRequest(call: Pick<Call, 'method' | 'params'>, id: number): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: call.method, params: call.params });
}

function oneShotRequest(call: Call): string {
  return JSON.stringify({ version: '1.0', action: call.method, ...call.params });
}

/** Each message sent once the previous one is answered, so the order is the session's. */
async function inTurn(messages: readonly string[], send: (message: string) => Promise<string>): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  for (const sent of messages) exchanges.push({ sent, received: await send(sent) });
  return exchanges;
}

/** The reply's id, which must be the request's: a notification must not pass for a reply. */
function checkedReply(exchange: Exchange): Exchange {
  const sent = JSON.parse(exchange.sent) as { id?: unknown };
  const reply = JSON.parse(exchange.received) as { id?: unknown; result?: unknown };
  if (reply.id !== sent.id || reply.result === undefined) throw new Error(`not the answer to ${exchange.sent}: ${exchange.received}`);
  return exchange;
}

/** The services a change's reply says it altered: its own, and each one it preempted. */
function servicesAltered(reply: string): number {
  const { result } = JSON.parse(reply) as { result: { preempted?: readonly unknown[] } };
  return 1 + (result.preempted?.length ?? 0);
}

async function captureNotifications(): Promise<NotificationsExample> {
  return withSampleDaemon(async (socketPath) => {
    const subscriber = await LineConnection.open(socketPath);
    const changer = await LineConnection.open(socketPath);
    const inTurnOn = async (connection: LineConnection, sent: string) => checkedReply({ sent, received: await connection.exchange(sent) });
    try {
      const subscribe = await inTurnOn(subscriber, jsonRpcRequest({ method: 'subscribe', params: {} }, 1));
      const changes = [];
      for (const [i, call] of NOTIFICATION_CHANGES.entries()) {
        const exchange = await inTurnOn(changer, jsonRpcRequest(call, i + 1));
        changes.push({ exchange, notifications: await subscriber.unasked(servicesAltered(exchange.received)) });
      }
      // Its reply comes alone: no notification beyond those read.
      const unsubscribe = await inTurnOn(subscriber, jsonRpcRequest({ method: 'unsubscribe', params: {} }, 2));
      return { subscribe, changes, unsubscribe };
    } finally {
      subscriber.close();
      changer.close();
    }
  });
}

export async function captureExamples(): Promise<Captured> {
  const overJsonRpc = await withSampleDaemon(async (socketPath) => {
    const connection = await LineConnection.open(socketPath);
    const send = (message: string) => connection.exchange(message);
    try {
      const session = await inTurn(
        SESSION.map((call, i) => jsonRpcRequest(call, i + 1)),
        send,
      );
      return { session, envelope: await inTurn(ENVELOPE_EXAMPLES.map((e) => e.message), send) };
    } finally {
      connection.close();
    }
  });
  const overOneShot = await withSampleDaemon(async (socketPath) => {
    const send = (message: string) => oneShot(socketPath, message);
    const session = await inTurn(SESSION.map(oneShotRequest), send);
    return { session, rules: await inTurn(ONE_SHOT_EXAMPLES.map((e) => JSON.stringify(e.message)), send) };
  });
  return {
    jsonRpc: overJsonRpc.session,
    oneShot: overOneShot.session,
    envelope: overJsonRpc.envelope,
    oneShotRules: overOneShot.rules,
    notifications: await captureNotifications(),
  };
}
