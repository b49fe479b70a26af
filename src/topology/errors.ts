// A sysfs file the daemon cannot make sense of. The message leads with the file, so an operator
// knows what to look at without reading code.
export class TopologyError extends Error {
  constructor(
    /** The file (or option, e.g. `--cpu-pool`) at fault. */
    readonly source: string,
    readonly detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'TopologyError';
  }
}
