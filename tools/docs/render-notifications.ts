// The notifications section: what a subscribed connection is sent, each notification's params
// (from its schema) and a real example, captured on a fresh daemon with two connections.
import { Ajv } from 'ajv';
import { NOTIFICATIONS } from '../../schema/index.js';
import type { NotificationsExample } from './capture.js';
import { anchor, block, code, indented, table, text } from './markdown.js';
import { exchangeBlocks } from './render-exchange.js';
import { TRANSPORT } from './render-transport.js';
import { fieldRows, jsonSchema } from './schema-fields.js';
import { NOTIFICATION_CHANGES } from './session.js';

export const NOTIFICATIONS_HEADING = 'Notifications';

function paramsTable(params: unknown): string {
  const rows = fieldRows(jsonSchema(params)).map((row) => [code(row.field), row.type, row.required ? 'yes' : 'no', row.description]);
  return table(['field', 'type', 'required', 'description'], rows);
}

const ajv = new Ajv({ strict: true });

/** A notification line, checked to be one (no id) of a notification the schema has, with valid params. */
function checked(line: string): string {
  const message = JSON.parse(line) as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  const notification = NOTIFICATIONS.find((n) => n.name === message.method);
  if (message.jsonrpc !== '2.0' || 'id' in message || notification === undefined) throw new Error(`not a notification: ${line}`);
  if (!ajv.validate(notification.params, message.params)) throw new Error(`${notification.name} params do not match their schema: ${line}`);
  return line;
}

function example(captured: NotificationsExample): string {
  const changes = NOTIFICATION_CHANGES.flatMap((call, i) => {
    const change = captured.changes[i]!;
    return [
      `Connection 2: ${text(call.caption)}`,
      exchangeBlocks(change.exchange),
      `Connection 1 receives ${change.notifications.length === 1 ? 'one notification' : `${change.notifications.length} notifications`}:`,
      ...change.notifications.map((line) => block(indented(checked(line)))),
    ];
  });
  return [
    '**Example** (real: a fresh daemon on the sample host, two connections, each message answered before the next is sent). Connection 1 subscribes:',
    exchangeBlocks(captured.subscribe),
    ...changes,
    'Connection 1 unsubscribes; nothing else came before the reply:',
    exchangeBlocks(captured.unsubscribe),
  ].join('\n\n');
}

export function notificationsSection(captured: NotificationsExample): string {
  const sections = NOTIFICATIONS.map((notification) =>
    [`### ${code(notification.name)}`, `${text(notification.summary)}.`, '**Params**', paramsTable(notification.params)].join('\n\n'),
  );
  return [
    `## ${NOTIFICATIONS_HEADING}`,
    [
      `A connection that called [${code('subscribe')}](${anchor('subscribe')}) is sent a JSON-RPC 2.0 notification (a request without \`id\`; it is never answered) for each service whose CPUs, pool or hugepage reservations a change altered: the service that asked, and each service it preempted.`,
      'They are sent once the change is durable, in the order the changes were made, and may come between the replies to the connection\'s own requests: a client tells them apart by the missing `id`.',
      `A change that alters nothing sends none. [${code('unsubscribe')}](${anchor('unsubscribe')}), or closing the connection, ends them; a subscriber that does not read them is closed (\`maxPushBacklogBytes\` in [${TRANSPORT}](${anchor(TRANSPORT)})).`,
      'JSON-RPC 2.0 only: a one-shot connection closes after its reply.',
    ].join(' '),
    ...sections,
    example(captured),
  ].join('\n\n');
}
