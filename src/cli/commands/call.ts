// `call METHOD [JSON-PARAMS | -]`: one request, the result as pretty JSON on stdout. With `-` the
// params are read from standard input.
import { text } from 'node:stream/consumers';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { jsonParams } from '../parse.js';
import { PARAMS_FROM_STDIN, type CallRequest } from '../program.js';
import { formatJson } from '../table.js';
import { withClient } from './session.js';

async function paramsFromStdin(): Promise<Record<string, unknown>> {
  try {
    return jsonParams(await text(process.stdin));
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new CliError(`params on standard input: ${error.message}`, EXIT.usage);
    throw error;
  }
}

export async function call({ socket, method, params }: CallRequest): Promise<void> {
  const given = params === PARAMS_FROM_STDIN ? await paramsFromStdin() : params;
  const result = await withClient(socket, (client) => client.call(method, given));
  process.stdout.write(formatJson(result));
}
