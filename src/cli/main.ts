// Entry point of bin/epa-orchestrator. A failure is one message on stderr and an exit code:
// 1 when the command failed, 2 when it was called wrongly (commander has printed why).
import { CommanderError } from 'commander';
import { actions } from './actions.js';
import { CliError, EXIT, messageOf } from './errors.js';
import { buildProgram } from './program.js';
import { packageVersion } from './version.js';

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.usage;
  process.stderr.write(`epa-orchestrator: ${messageOf(error)}\n`);
  return error instanceof CliError ? error.exitCode : EXIT.failure;
}

try {
  await buildProgram(actions, packageVersion()).parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}
