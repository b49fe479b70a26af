// The full error table: the JSON-RPC envelope's errors, then every domain error with its code, its
// real sentences and the members of its `error.data`.
import { DOMAIN_ERRORS, InvalidParamsData, JSONRPC_ERRORS } from '../../schema/index.js';
import { DATA_MEMBERS, domainErrorSamples } from './error-samples.js';
import { code, table, text } from './markdown.js';
import { fieldRows, jsonSchema } from './schema-fields.js';

export const ERRORS_HEADING = 'Errors';

/** When the envelope answers each standard error, and what its `data` holds (src/rpc/dispatcher.ts). */
const ENVELOPE: { readonly [K in keyof typeof JSONRPC_ERRORS]: { readonly when: string; readonly data: string } } = {
  PARSE_ERROR: { when: 'The message is not JSON, or not UTF-8', data: '`detail` when it is not UTF-8; none otherwise' },
  INVALID_REQUEST: {
    when: 'Not a JSON-RPC 2.0 request; an empty batch or one over the batch limit; a message over the size limit',
    data: '`detail` for the two limits; none otherwise',
  },
  METHOD_NOT_FOUND: { when: 'No method of that name', data: 'none' },
  INVALID_PARAMS: { when: "The params are not an object, or do not match the method's params", data: '`errors`, below' },
  INTERNAL_ERROR: { when: 'A fault of the daemon', data: 'none: the details go to its log only' },
};

export function errorsSection(): string {
  const envelope = (Object.keys(JSONRPC_ERRORS) as (keyof typeof JSONRPC_ERRORS)[]).map((name) => [
    String(JSONRPC_ERRORS[name].code),
    code(name),
    code(JSONRPC_ERRORS[name].message),
    text(ENVELOPE[name].when),
    ENVELOPE[name].data,
  ]);
  const invalidParams = fieldRows(jsonSchema(InvalidParamsData)).map((row) => [code(row.field), row.type, row.description]);
  const domain = domainErrorSamples().map((error) => [
    String(error.code),
    code(error.reason),
    text(DOMAIN_ERRORS[error.reason].summary),
    text(error.message),
    Object.keys(error.data).map(code).join(', '),
  ]);
  const members = Object.entries(DATA_MEMBERS).map(([member, meaning]) => [code(member), text(meaning)]);
  return [
    `## ${ERRORS_HEADING}`,
    'An error reply is `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":…}}`; in the one-shot protocol, `{"version":"1.0","error":<message>}`. A refused call changes nothing. No error carries a stack trace.',
    '### Envelope errors (JSON-RPC 2.0)',
    table(['code', 'name', 'message', 'when', '`data`'], envelope),
    'The `data` of -32602:',
    table(['field', 'type', 'description'], invalidParams),
    '### Domain errors',
    'Each has `data.reason`, its name. One row per sentence the daemon can answer with, filled in with example values:',
    table(['code', 'reason', 'when', 'message', '`data` members'], domain),
    'The members of a domain error\'s `data`:',
    table(['member', 'meaning'], members),
  ].join('\n\n');
}
