// A started daemon's life in this process: SIGTERM/SIGINT stop it and exit (0 once stopped
// cleanly), a second signal exits at once, SIGHUP re-reads the CPU topology.
import type { Logger } from 'winston';
import type { Daemon } from '../../daemon/daemon.js';
import { messageOf } from '../errors.js';

/** Ends the logger and waits until what it holds is written, so the last lines are not lost. */
function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    logger.once('finish', () => resolve());
    logger.end();
  });
}

export function runUntilSignalled(daemon: Daemon, logger: Logger, cleanup: () => void = () => undefined): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`epa-orchestrator: ${signal} again, exiting without finishing the stop\n`);
      cleanup();
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: stopping`);
    const exit = (code: number) => {
      cleanup();
      void flush(logger).then(() => process.exit(code));
    };
    daemon.stop().then(
      () => exit(0),
      (error: unknown) => {
        logger.error(`stop failed: ${messageOf(error)}`);
        exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    try {
      daemon.reload();
    } catch (error) {
      logger.error(`reload failed, keeping the previous topology: ${messageOf(error)}`);
    }
  });
}
