// The methods section: the session the examples come from, then per method its summary, params,
// result and errors (from the method table and its schemas) and its real exchanges in both
// protocols.
import { isDeepStrictEqual } from 'node:util';
import { DOMAIN_ERRORS, JSONRPC_ERRORS, METHODS, buildOpenRpc, plainSchema, type AnyMethod } from '../../schema/index.js';
import type { Captured } from './capture.js';
import { anchor, block, code, table, text } from './markdown.js';
import { exchangeBlocks } from './render-exchange.js';
import { ERRORS_HEADING } from './render-errors.js';
import { fieldRows, jsonSchema } from './schema-fields.js';
import { DISCOVER, SESSION } from './session.js';

export const METHODS_HEADING = 'Methods';

/** SESSION's calls of one method, with their step numbers (1-based). */
function stepsOf(method: string): number[] {
  return SESSION.flatMap((call, i) => (call.method === method ? [i + 1] : []));
}

function paramsTable(method: AnyMethod): string {
  const schema = jsonSchema(method.params);
  const rows = fieldRows(schema).map((row) => [code(row.field), row.type, row.required ? 'yes' : 'no', row.default, row.description]);
  const open = schema.additionalProperties === false ? [] : ['Any other member is accepted and ignored.'];
  if (rows.length === 0) return ['None: `{}`, or no `params` at all.', ...open].join(' ');
  return [table(['field', 'type', 'required', 'default', 'description'], rows), ...open].join('\n\n');
}

function resultTable(method: AnyMethod): string {
  const rows = fieldRows(jsonSchema(method.result)).map((row) => [code(row.field), row.type, row.required ? 'yes' : 'no', row.description]);
  return table(['field', 'type', 'required', 'description'], rows);
}

function errorsTable(method: AnyMethod): string {
  const { code: invalid } = JSONRPC_ERRORS.INVALID_PARAMS;
  const rows = [
    [String(invalid), code('INVALID_PARAMS'), 'The params do not match the table above (`data.errors` names each problem)'],
    ...[...method.errors]
      .sort((a, b) => DOMAIN_ERRORS[b].code - DOMAIN_ERRORS[a].code)
      .map((reason) => [String(DOMAIN_ERRORS[reason].code), code(reason), text(DOMAIN_ERRORS[reason].summary)]),
  ];
  return table(['code', 'name', 'when'], rows);
}

/** Step n in both protocols: its caption, then each protocol's exchange. */
function example(captured: Captured, step: number): string {
  const call = SESSION[step - 1]!;
  return [
    `**Step ${step}.** ${text(call.caption)}`,
    'JSON-RPC 2.0:',
    exchangeBlocks(captured.jsonRpc[step - 1]!),
    'One-shot:',
    exchangeBlocks(captured.oneShot[step - 1]!),
  ].join('\n\n');
}

function methodSection(method: AnyMethod, captured: Captured): string {
  return [
    `### ${code(method.name)}`,
    `${text(method.summary)}.`,
    '**Params**',
    paramsTable(method),
    '**Result**',
    resultTable(method),
    `**Errors** (and those of the [envelope](${anchor(ERRORS_HEADING)}))`,
    errorsTable(method),
    '**Examples**',
    ...stepsOf(method.name).map((step) => example(captured, step)),
  ].join('\n\n');
}

/** rpc.discover's reply is the whole OpenRPC document: checked here to be it, shown by reference. */
function discoverSection(captured: Captured): string {
  const [step] = stepsOf(DISCOVER);
  if (step === undefined) throw new Error(`the session has no ${DISCOVER} call`);
  const reply = JSON.parse(captured.jsonRpc[step - 1]!.received) as { result?: unknown };
  if (!isDeepStrictEqual(reply.result, plainSchema(buildOpenRpc()))) throw new Error(`${DISCOVER} did not answer the OpenRPC document`);
  return [
    `### ${code(DISCOVER)}`,
    'The OpenRPC document of the whole API. No params (`{}`, or none). JSON-RPC 2.0 only.',
    `**Step ${step}.** The request:`,
    block(captured.jsonRpc[step - 1]!.sent),
    'The reply\'s `result` is the document [schema/openrpc.json](../schema/openrpc.json) holds (`make schema` writes it from the same schemas). The one-shot protocol does not know it:',
    exchangeBlocks(captured.oneShot[step - 1]!),
  ].join('\n\n');
}

export function methodsSection(captured: Captured): string {
  const steps = SESSION.map(
    (call, i) => `${i + 1}. [${code(call.method)}](${anchor(call.method)}) ${code(JSON.stringify(call.params))} — ${text(call.caption)}`,
  );
  return [
    `## ${METHODS_HEADING}`,
    'Every example is real: one session on the sample host, in this order, each call answered before the next is sent. It runs twice, on two fresh daemons: in JSON-RPC 2.0 over one connection (call *n* has id *n*), and in the one-shot protocol, one connection per call; so both protocols show the same CPUs.',
    steps.join('\n'),
    ...METHODS.map((method) => methodSection(method, captured)),
    discoverSection(captured),
  ].join('\n\n');
}
