// The transport section: framing, order on a connection, the limits, and how the envelope refuses
// what it cannot run (real replies).
import type { Exchange } from './capture.js';
import { transportLimits } from './limits.js';
import { anchor, code, table, text } from './markdown.js';
import { exchangeBlocks } from './render-exchange.js';
import { ONE_SHOT } from './render-one-shot.js';
import { ENVELOPE_EXAMPLES } from './session.js';

export const TRANSPORT = 'Transport';

export function transportSection(envelope: readonly Exchange[]): string {
  const limits = transportLimits().map((limit) => [
    code(limit.name),
    code(limit.value),
    limit.flag === undefined ? '—' : code(limit.flag),
    limit.variable === undefined ? '—' : code(limit.variable),
    text(limit.effect),
  ]);
  const examples = ENVELOPE_EXAMPLES.map((example, i) => `${text(example.caption)}\n\n${exchangeBlocks(envelope[i]!)}`);
  return [
    `## ${TRANSPORT}`,
    [
      'The daemon listens on a Unix stream socket (`--socket`; the default path is in the README). Messages are UTF-8 JSON:',
      '',
      '- **One JSON value per message.** A value ends its message whether a newline follows or not: `{…}{…}` sent back to back are two messages, and a value sent without a newline is answered at once. A newline also ends a message; a value still open there is a parse error. Bytes that can no longer become JSON are answered with a parse error at once, and the rest of their line is dropped.',
      '- **Every reply is one line**: JSON text and `\\n`. The examples here show replies indented.',
      '- **Connections are persistent.** A client may pipeline requests; they are handled concurrently and answered in the order they were sent. Batches and notifications are those of JSON-RPC 2.0.',
      '- **Order on a connection.** Requests are admitted in the order sent, a batch in array order. A change is planned at once against the latest state, so it sees every earlier change of its connection; a read waits only while an earlier change of its connection is being made durable. No reply shows a state that is not yet on disk, and other connections are never held up.',
      `- A JSON object with \`"action"\` or \`"version"\` and no \`"jsonrpc"\` is a request of [${ONE_SHOT.toLowerCase()}](${anchor(ONE_SHOT)}).`,
    ].join('\n'),
    'Limits, each set by a flag of `serve` or its variable:',
    table(['limit', 'default', 'flag', 'variable', 'at the limit'], limits),
    'How the envelope answers what it cannot run (real replies):',
    ...examples,
  ].join('\n\n');
}
