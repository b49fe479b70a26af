// `bin/epa-orchestrator serve` as a separate process, for what an in-process daemon cannot show:
// SIGKILL, signals, its resident memory. A warm child has its modules loaded and waits for go().
// A test waits on what the daemon says (its "serving on" line), never on the clock.
import { readFileSync } from 'node:fs';
import { BIN, Started, type Exit } from './process.js';

const GATE = new URL('./gate.js', import.meta.url).href;

/** How a child ended. */
export type ChildExit = Omit<Exit, 'stdout' | 'stderr'>;

export class ChildDaemon {
  private constructor(readonly process: Started) {}

  /**
   * Starts `bin/epa-orchestrator <args>` at once. The args must leave the log level at info (or
   * lower) for ready() to hear the daemon say it serves.
   */
  static start(args: readonly string[]): ChildDaemon {
    return new ChildDaemon(new Started(process.execPath, [BIN, ...args]));
  }

  /** Spawns `bin/epa-orchestrator <args>` with its modules loaded, held until go(). */
  static warm(args: readonly string[]): ChildDaemon {
    return new ChildDaemon(new Started(process.execPath, ['--import', GATE, BIN, ...args], { holdStdin: true }));
  }

  get pid(): number {
    return this.process.child.pid!;
  }

  get stderr(): string {
    return this.process.stderr;
  }

  get exited(): Promise<ChildExit> {
    return this.process.exited;
  }

  get exit(): ChildExit | undefined {
    return this.process.exit;
  }

  /** Lets a warm child run the program, once its modules are loaded. */
  async go(): Promise<void> {
    await this.process.saysOnStdout(/^warm$/m);
    this.process.input('go\n');
  }

  /** Resolves once the daemon says it serves; rejects if it exits first. */
  async ready(): Promise<void> {
    await this.process.saysOnStderr(/serving on /);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.process.child.kill(signal);
  }

  /** SIGKILL, and waits for the process to be gone. */
  async kill(): Promise<ChildExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** Resident memory of the daemon process, in bytes. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb === undefined) throw new Error(`no VmRSS for pid ${this.pid}`);
    return Number(kb) * 1024;
  }
}

/** Warm children for a run that restarts the daemon many times: one is always loading ahead. */
export class SpareDaemons {
  readonly #spares: ChildDaemon[] = [];

  constructor(
    private readonly args: readonly string[],
    ahead: number,
  ) {
    for (let i = 0; i < ahead; i++) this.#spares.push(ChildDaemon.warm(args));
  }

  /** A warm child (not yet told to go); another starts loading behind it. */
  take(): ChildDaemon {
    this.#spares.push(ChildDaemon.warm(this.args));
    return this.#spares.shift()!;
  }

  async close(): Promise<void> {
    await Promise.all(this.#spares.splice(0).map((spare) => spare.kill()));
  }
}

/** The soft limit on open files of this process (children inherit it), from /proc. */
export function openFileLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return line === undefined || line === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(line);
}
