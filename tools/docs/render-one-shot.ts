// The section on the Python daemon's one-shot protocol: what it accepts and answers, with real
// replies to what only it accepts or refuses.
import { METHOD_NAMES } from '../../schema/index.js';
import { HANDLERS } from '../../src/rpc/index.js';
import type { Exchange } from './capture.js';
import { anchor, code, text } from './markdown.js';
import { exchangeBlocks } from './render-exchange.js';
import { ERRORS_HEADING } from './render-errors.js';
import { METHODS_HEADING } from './render-methods.js';
import { DISCOVER, ONE_SHOT_EXAMPLES } from './session.js';

export const ONE_SHOT = 'The one-shot protocol';

/** Methods that act on their connection (subscriptions): a one-shot connection closes after its reply. */
const CONNECTION_METHODS = METHOD_NAMES.filter((name) => HANDLERS[name].kind === 'connection');

export function oneShotSection(rules: readonly Exchange[]): string {
  const link = (name: string) => `[${code(name)}](${anchor(name)})`;
  const methods = METHOD_NAMES.filter((name) => !CONNECTION_METHODS.includes(name)).map(link).join(', ');
  const connection = CONNECTION_METHODS.map(link).join(' and ');
  const examples = ONE_SHOT_EXAMPLES.map((example, i) => `${text(example.caption)}\n\n${exchangeBlocks(rules[i]!)}`);
  return [
    `## ${ONE_SHOT}`,
    [
      "The Python `epa-orchestrator` daemon's protocol, answered as that daemon answered it so its clients work unchanged.",
      '',
      '- **Request**: one JSON object, `{"version":"1.0","action":"<method>", …params}`, with or without a newline.',
      `- **Methods**: ${methods}. Not ${code(DISCOVER)}; nor ${connection}, which need a connection that stays open. Each of these is answered \`{"version":"1.0","error":"Unknown action: <method>"}\`.`,
      '- **One request per connection.** The reply is one write ending in `\\n`; then the daemon closes the connection. Anything sent after the first request is not run.',
      "- **Params as the Python daemon's models read them**: members the method does not take are ignored; a member whose value is `null` is absent; integers may be written as decimal strings (`\"2\"`); `allocate_cores` without `num_of_cores` gets the default share. `version`, when present, must be `\"1.0\"`. The rest goes through the same schemas as JSON-RPC: whatever they refuse is refused.",
      `- **Reply**: the JSON-RPC \`result\` with \`"version":"1.0"\` added, or \`{"version":"1.0","error":"<message>"}\` with the message of the [error](${anchor(ERRORS_HEADING)}); invalid params read \`Invalid params: <field> <problem>\`. One difference: a \`list_allocations\` entry of a service that holds no CPUs says \`"preemption_policy":"legacy"\`, where JSON-RPC says \`null\`.`,
      '- Bytes that are not JSON get the JSON-RPC parse error, which has the `error` member these clients test for.',
    ].join('\n'),
    `The [methods](${anchor(METHODS_HEADING)}) show both protocols side by side. What only this protocol accepts or refuses (real replies, after the session of the methods):`,
    ...examples,
  ].join('\n\n');
}
