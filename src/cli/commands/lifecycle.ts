// A daemon's life in this process, signals included from the first moment: SIGTERM/SIGINT stop it
// and exit (0 once stopped cleanly) — also while it is still starting, when the stop comes as soon
// as the start is done, so the lock and the socket are never left behind; a second signal exits at
// once; SIGHUP re-reads the CPU topology.
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

/** Starts the daemon with `start` and runs it until a signal stops it; rejects when it cannot start. */
export async function runUntilSignalled(start: () => Promise<Daemon>, logger: Logger, cleanup: () => void = () => undefined): Promise<void> {
  // Set once started; the handlers below see it from then on.
  const life: { daemon?: Daemon } = {};
  let stopSignal: NodeJS.Signals | undefined;
  const exit = (code: number) => {
    cleanup();
    void flush(logger).then(() => process.exit(code));
  };
  const stopNow = (running: Daemon, signal: NodeJS.Signals) => {
    logger.info(`${signal}: stopping`);
    running.stop().then(
      () => exit(0),
      (error: unknown) => {
        logger.error(`stop failed: ${messageOf(error)}`);
        exit(1);
      },
    );
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) {
      process.stderr.write(`epa-orchestrator: ${signal} again, exiting without finishing the stop\n`);
      cleanup();
      process.exit(1);
    }
    stopSignal = signal;
    if (life.daemon) stopNow(life.daemon, signal);
    else logger.info(`${signal} while starting: stopping once started`);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    if (!life.daemon) return;
    try {
      life.daemon.reload();
    } catch (error) {
      logger.error(`reload failed, keeping the previous topology: ${messageOf(error)}`);
    }
  });
  life.daemon = await start();
  if (stopSignal !== undefined) stopNow(life.daemon, stopSignal);
}
