// Why the daemon cannot start on a state dir. Both name what the operator has to look at.

/** The state file cannot be read or does not hold a valid ledger; the file is left as it is. */
export class StateFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Cannot use the state file ${path}: ${problem}`);
    this.name = 'StateFileError';
  }
}

/** Another live daemon holds the state dir. */
export class StateLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`State directory ${dir} is in use by another epa-orchestrator (pid ${pid})`);
    this.name = 'StateLockedError';
  }
}
