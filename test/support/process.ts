// Running the built program (or any command) as a child process, for the tests that need a real
// one: its output is collected, and a test waits on what the process says, not on the clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs from dist/test/support/, three levels below the repository root.
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'bin', 'epa-orchestrator');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Variables added to (or, as undefined, removed from) this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to standard input, which is then closed; without it stdin is closed at once. */
  readonly stdin?: string;
  /** Keeps standard input open for input() instead. */
  readonly holdStdin?: boolean;
  readonly cwd?: string;
}

export class Started {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  #watchers: (() => void)[] = [];
  #exit: Omit<Exit, 'stdout' | 'stderr'> | undefined;

  constructor(command: string, args: readonly string[], options: RunOptions = {}) {
    const env = { ...process.env };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    this.child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env });
    // A child that exits (or is killed) before it reads stdin makes the write fail with EPIPE:
    // what it did is in its exit and output, which the test checks.
    this.child.stdin!.on('error', () => undefined);
    if (options.holdStdin !== true) this.child.stdin!.end(options.stdin ?? '');
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      this.#notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.#notify();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  /** How the process ended, once it has and its output is all read. */
  get exit(): Omit<Exit, 'stdout' | 'stderr'> | undefined {
    return this.#exit;
  }

  /**
   * Resolves once the process has written text matching `pattern` on stderr (from character
   * `from` on, to wait for a line it has said before); fails if it exits first.
   */
  async saysOnStderr(pattern: RegExp, from = 0): Promise<string> {
    return this.#says('stderr', pattern, from);
  }

  /** Resolves once the process has written text matching `pattern` on stdout; fails if it exits first. */
  async saysOnStdout(pattern: RegExp, from = 0): Promise<string> {
    return this.#says('stdout', pattern, from);
  }

  /** Writes to a held standard input, and closes it. */
  input(text: string): void {
    this.child.stdin!.end(text);
  }

  async #says(stream: 'stdout' | 'stderr', pattern: RegExp, from: number): Promise<string> {
    for (;;) {
      const match = pattern.exec(this[stream].slice(from));
      if (match) return match[0];
      if (this.exit !== undefined) {
        throw new Error(`exited (${JSON.stringify(this.exit)}) before saying ${pattern} on ${stream}: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => this.#watchers.push(resolve));
    }
  }

  /** Stops the process (SIGTERM by default) and waits for its end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.#exit === undefined) this.child.kill(signal);
    return this.exited;
  }

  #notify(): void {
    for (const wake of this.#watchers.splice(0)) wake();
  }
}

/** Starts the built program with these arguments. */
export const startCli = (args: readonly string[], options?: RunOptions): Started => new Started(BIN, args, options);

/** Runs the built program to its end. */
export const runCli = (args: readonly string[], options?: RunOptions): Promise<Exit> => startCli(args, options).exited;
