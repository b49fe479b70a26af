// One connection to the daemon for one command: the daemon's error answers become CliErrors with
// exit code 1, a daemon that cannot be reached (or stops answering) exit code 3, each with a
// sentence the user can act on.
import { EpaClient, EpaConnectionError, EpaError, EpaTimeoutError } from '../../client/index.js';
import { CliError, EXIT } from '../errors.js';
import { connectFailure, formatRpcError } from '../messages.js';

/** A command gives up on a daemon that does not answer within this long. */
const CALL_TIMEOUT_MS = 60_000;

export async function withClient<T>(socket: string, use: (client: EpaClient) => Promise<T>): Promise<T> {
  let client: EpaClient;
  try {
    client = await EpaClient.connect(socket, { timeoutMs: CALL_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof EpaConnectionError) throw new CliError(connectFailure(socket, error.errno, error.message), EXIT.unreachable);
    throw error;
  }
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof EpaError) throw new CliError(formatRpcError(error));
    if (error instanceof EpaConnectionError) throw new CliError(`lost the connection to ${socket}: ${error.message}`, EXIT.unreachable);
    if (error instanceof EpaTimeoutError) throw new CliError(`the daemon on ${socket} did not answer: ${error.message}`, EXIT.unreachable);
    throw error;
  } finally {
    client.close();
  }
}
