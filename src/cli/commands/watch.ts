// `watch [--json]`: subscribe, then print one line per allocation_changed notification as it
// comes, until SIGINT or SIGTERM (exit 0) or until the daemon closes the connection (exit 1).
import type { AllocationChangedParams, EpaClient } from '../../client/index.js';
import { formatChange } from '../changes.js';
import { CliError, EXIT } from '../errors.js';
import type { WatchRequest } from '../program.js';
import { withClient } from './session.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Writes one line per change; each write is one line, so a pipe reader gets whole lines at once. */
function printer(json: boolean): (change: AllocationChangedParams) => void {
  return (change) => {
    process.stdout.write(json ? `${JSON.stringify(change)}\n` : formatChange(change, new Date()));
  };
}

/** Resolves on SIGINT or SIGTERM, or when stdout's reader goes away; rejects when the daemon closes the connection. */
function untilStopped(client: EpaClient, socket: string): { done: Promise<void>; dispose: () => void } {
  const cleanups: (() => void)[] = [];
  const done = new Promise<void>((resolve, reject) => {
    for (const signal of STOP_SIGNALS) {
      const stop = () => resolve();
      process.once(signal, stop);
      cleanups.push(() => process.off(signal, stop));
    }
    // `watch | head -1`: once the reader is gone there is no one left to tell.
    const broken = (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? resolve() : reject(error));
    process.stdout.on('error', broken);
    cleanups.push(() => process.stdout.off('error', broken));
    cleanups.push(
      client.onClose((error) => {
        if (error !== undefined) reject(new CliError(`lost the connection to ${socket}: ${error.message}`, EXIT.failure));
      }),
    );
  });
  // The connection may be lost before anyone waits on `done` (while subscribing): not unhandled.
  done.catch(() => undefined);
  return { done, dispose: () => cleanups.splice(0).forEach((cleanup) => cleanup()) };
}

export async function watch({ socket, json }: WatchRequest): Promise<void> {
  await withClient(socket, async (client) => {
    client.onAllocationChanged(printer(json));
    const stopped = untilStopped(client, socket);
    try {
      await client.subscribe();
      process.stderr.write(`watching ${socket} (Ctrl-C to stop)\n`);
      await stopped.done;
    } finally {
      stopped.dispose();
    }
  });
}
