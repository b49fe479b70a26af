// `serve`: start the daemon and run until signalled. A start that fails is one line on stderr,
// naming what is wrong, and exit code 1.
import { stat } from 'node:fs/promises';
import { startDaemon } from '../../daemon/daemon.js';
import { createLogger } from '../../daemon/logger.js';
import { CliError, messageOf } from '../errors.js';
import type { ServeRequest } from '../program.js';
import { runUntilSignalled } from './lifecycle.js';

// The topology reader takes a missing file for an absent feature (SPEC §2), so a mistyped
// --sysfs would serve an empty host; a root that is not a directory is refused instead.
async function requireDirectory(path: string): Promise<void> {
  const isDirectory = await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDirectory) throw new CliError(`cannot start: the sysfs root ${path} is not a directory`);
}

export async function serve({ config, logLevel, logFormat }: ServeRequest): Promise<void> {
  await requireDirectory(config.sysfs);
  const logger = createLogger(logLevel, logFormat);
  const daemon = await startDaemon(config, logger).catch((error: unknown) => {
    throw new CliError(`cannot start: ${messageOf(error)}`);
  });
  runUntilSignalled(daemon, logger);
}
