// `call METHOD [JSON-PARAMS]`: one request, the result as pretty JSON on stdout.
import type { CallRequest } from '../program.js';
import { formatJson } from '../table.js';
import { withClient } from './session.js';

export async function call({ socket, method, params }: CallRequest): Promise<void> {
  const result = await withClient(socket, (client) => client.call(method, params));
  process.stdout.write(formatJson(result));
}
