// Runs the calls of session.ts against real daemons and keeps the text of both sides: SESSION over
// JSON-RPC on one connection, then the envelope examples; and SESSION again in the one-shot
// protocol on a second fresh daemon, then the one-shot examples.
import { withSampleDaemon } from './sample-daemon.js';
import { ENVELOPE_EXAMPLES, ONE_SHOT_EXAMPLES, SESSION, type Call } from './session.js';
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
}

function jsonRpcRequest(call: Call, id: number): string {
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
  };
}
