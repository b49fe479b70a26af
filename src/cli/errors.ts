// A failure the command line reports as one message on stderr, with the exit code it maps to.

/** Exit codes: 1 an error answer or a failed command, 2 bad usage or params, 3 the daemon cannot be reached. */
export const EXIT = { failure: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
