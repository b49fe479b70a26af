// `serve`: start the daemon and run until signalled. A start that fails is one line on stderr,
// naming what is wrong, and exit code 1. Inside a snap the snap options fill what no flag or
// variable set; under systemd socket activation the passed socket is served.
import type { Logger } from 'winston';
import { activationFd } from '../../daemon/activation.js';
import type { DaemonConfig } from '../../daemon/config.js';
import { startDaemon } from '../../daemon/daemon.js';
import { createLogger } from '../../daemon/logger.js';
import { readSnapOptions, withSnapOptions } from '../../daemon/snap-options.js';
import { CliError, messageOf } from '../errors.js';
import type { ServeRequest } from '../program.js';
import { runUntilSignalled } from './lifecycle.js';

/** The config as this process finds it: the snap's options and a socket passed by systemd. */
async function effectiveConfig(config: DaemonConfig, logger: Logger): Promise<DaemonConfig> {
  let effective = config;
  if (process.env.SNAP !== undefined) {
    try {
      effective = withSnapOptions(effective, await readSnapOptions());
    } catch (error) {
      // Unknown options must not widen a pool: the general pool is then offered with no CPU.
      logger.error(`cannot read the snap options: ${messageOf(error)}`);
      if (effective.generalPool === undefined) effective = { ...effective, generalPoolUnknown: `the snap option cpu-pool cannot be read: ${messageOf(error)}` };
      // Unknown housekeeping CPUs could be handed out: every pool then hands out nothing.
      if (effective.reservedCpus === undefined) effective = { ...effective, reservedCpusUnknown: `the snap option reserved-cpus cannot be read: ${messageOf(error)}` };
    }
  }
  const listenFd = activationFd();
  return listenFd === undefined ? effective : { ...effective, listenFd };
}

export async function serve({ config, logLevel, logFormat }: ServeRequest): Promise<void> {
  const logger = createLogger({ level: logLevel, format: logFormat });
  await runUntilSignalled(
    async () =>
      startDaemon(await effectiveConfig(config, logger), logger).catch((error: unknown) => {
        throw new CliError(`cannot start: ${messageOf(error)}`);
      }),
    logger,
  );
}
