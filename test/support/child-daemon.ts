// `bin/epa-orchestrator serve` in a child process, so a test can SIGKILL it, signal it, read its
// stderr and watch its memory. A warm child has its modules loaded and waits for go().
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// This file runs from dist/test/reliability/, three levels below the repository root.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'bin', 'epa-orchestrator');
const GATE = new URL('./gate.js', import.meta.url).href;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServeFlags {
  readonly socket: string;
  readonly stateDir: string;
  readonly sysfs: string;
  /** More flags, e.g. ['--max-connections', '2000']. */
  readonly extra?: readonly string[];
}

export function serveArgs(flags: ServeFlags): string[] {
  return ['serve', '--socket', flags.socket, '--state-dir', flags.stateDir, '--sysfs', flags.sysfs, ...(flags.extra ?? [])];
}

/** Whether something accepts a connection on the socket path now. */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export class ChildDaemon {
  stderr = '';
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #warm: Promise<void>;
  #exit: Exit | undefined;

  private constructor(args: readonly string[], gated: boolean) {
    this.#child = spawn(process.execPath, [...(gated ? ['--import', GATE] : []), BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: [gated ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.#child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.exited = new Promise((resolve) =>
      this.#child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      }),
    );
    this.#warm = gated
      ? Promise.race([
          once(this.#child.stdout!, 'data').then(() => undefined),
          this.exited.then(() => Promise.reject(new Error(`the spare exited before it was warm: ${this.stderr}`))),
        ])
      : Promise.resolve();
    this.#warm.catch(() => undefined);
    this.#child.stdout!.resume();
  }

  /** Starts `bin/epa-orchestrator <args>` at once. */
  static start(args: readonly string[]): ChildDaemon {
    return new ChildDaemon(args, false);
  }

  /** Spawns `bin/epa-orchestrator <args>` with its modules loaded, held until go(). */
  static warm(args: readonly string[]): ChildDaemon {
    return new ChildDaemon(args, true);
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Lets a warm child run the program, once its modules are loaded. */
  async go(): Promise<void> {
    await this.#warm;
    this.#child.stdin!.end('go\n');
  }

  /** Resolves once the socket answers; rejects if the child exits or takes longer than timeoutMs. */
  async ready(socketPath: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit) throw new Error(`the daemon exited (${JSON.stringify(this.#exit)}) before serving: ${this.stderr}`);
      if (await answers(socketPath)) return;
      if (Date.now() > deadline) throw new Error(`the daemon did not answer on ${socketPath} within ${timeoutMs} ms: ${this.stderr}`);
      await sleep(5);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#exit) this.#child.kill(signal);
  }

  /** SIGKILL, and waits for the process to be gone. */
  async kill(): Promise<Exit> {
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
    private readonly ahead: number,
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
