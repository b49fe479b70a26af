// One connection to the daemon for one command: connection failures and error answers become
// CliErrors with a sentence the user can act on.
import { RpcError, SocketClient } from '../client.js';
import { CliError } from '../errors.js';
import { connectFailure, formatRpcError } from '../messages.js';

export async function withClient<T>(socket: string, use: (client: SocketClient) => Promise<T>): Promise<T> {
  let client: SocketClient;
  try {
    client = await SocketClient.connect(socket);
  } catch (error) {
    throw new CliError(connectFailure(socket, error));
  }
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof RpcError) throw new CliError(formatRpcError(error));
    throw error;
  } finally {
    client.close();
  }
}
