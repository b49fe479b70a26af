// The durable ledger. Changes are planned one at a time, in arrival order, against the latest
// ledger, and written by group commit: while one write is in flight the next changes queue, and one
// write then covers them all. A caller hears back only once a write holding its change is durable,
// and view() shows only durable ledgers, so nothing a reader saw is ever rolled back.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { DomainErrors, type DomainError } from '../../schema/index.js';
import { Ledger } from '../allocator/index.js';
import type { Plan } from '../allocator/index.js';
import { StateFileError } from './errors.js';
import { STATE_FILE, decodeState, encodeState } from './layout.js';
import { StateLock } from './lock.js';
import { durableWriter } from './writer.js';
import type { StateWriter } from './writer.js';

export type StateLogger = Pick<Logger, 'warn' | 'error'>;

export interface LedgerStoreOptions {
  writer?: StateWriter;
  logger?: StateLogger;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class LedgerStore {
  /** The latest planned ledger: durable, or durable plus the changes queued or being written. */
  private tip: Ledger;
  /** Changes planned since the write in flight began; the next write covers them all. */
  private queued: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  /** A failed write may have replaced the file before failing (dir fsync): rewrite before trusting it. */
  private diskUnsure = false;
  private closed = false;
  private writeCount = 0;

  private constructor(
    readonly dir: string,
    private durable: Ledger,
    private readonly lock: StateLock,
    private readonly writer: StateWriter,
    private readonly logger: StateLogger | undefined,
  ) {
    this.tip = durable;
  }

  /** Creates the dir (0700) if needed, takes its lock, loads its state file and removes a crashed write's leftovers. */
  static async open(stateDir: string, opts: LedgerStoreOptions = {}): Promise<LedgerStore> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const lock = await StateLock.acquire(stateDir);
    if (lock.tookOverFrom !== undefined) {
      opts.logger?.warn(`Took over the stale lock ${lock.path} of pid ${lock.tookOverFrom}`);
    }
    try {
      const ledger = await loadState(join(stateDir, STATE_FILE));
      // Only once the file is known good: a refused start leaves the dir as it found it.
      const writer = opts.writer ?? durableWriter;
      await writer.removeLeftovers?.(stateDir, STATE_FILE);
      return new LedgerStore(stateDir, ledger, lock, writer, opts.logger);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get path(): string {
    return join(this.dir, STATE_FILE);
  }

  /** The current durable ledger. */
  view(): Ledger {
    return this.durable;
  }

  /** Writes that reached the disk so far. */
  get writes(): number {
    return this.writeCount;
  }

  /**
   * Runs plan against the latest ledger and resolves with its result once the new ledger is
   * durable. A plan that throws changes nothing. A failed write rejects, with STATE_WRITE_FAILED,
   * every change in it and every change planned on top of it, and memory returns to the last
   * durable ledger. A plan that changes nothing still waits for the changes it saw to be durable.
   */
  async update<T>(plan: (current: Ledger) => Plan<T>): Promise<T> {
    if (this.closed) throw new Error('The state store is closed');
    const { next, result } = plan(this.tip);
    this.tip = next;
    await new Promise<void>((resolve, reject) => {
      this.queued.push({ resolve, reject });
      this.flush();
    });
    return result;
  }

  /** Waits for pending writes and releases the lock; later updates are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight) await this.inFlight;
    if (this.diskUnsure) {
      await this.persist(this.durable).catch((error: unknown) => {
        this.logger?.error(`Could not save the state to ${this.path}: ${messageOf(error)}`);
      });
    }
    await this.lock.release();
  }

  private flush(): void {
    if (this.inFlight || this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    if (this.tip === this.durable && !this.diskUnsure) {
      for (const waiter of batch) waiter.resolve();
      return;
    }
    const target = this.tip;
    this.inFlight = this.persist(target)
      .then(
        () => {
          this.durable = target;
          this.diskUnsure = false;
          for (const waiter of batch) waiter.resolve();
        },
        (error: unknown) => {
          const failed = [...batch, ...this.queued];
          this.queued = [];
          this.tip = this.durable;
          this.diskUnsure = true;
          this.logger?.error(`Could not save the state to ${this.path}: ${messageOf(error)}`);
          for (const waiter of failed) waiter.reject(stateWriteFailed(error));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        this.flush();
      });
  }

  private async persist(ledger: Ledger): Promise<void> {
    await this.writer.write(this.dir, STATE_FILE, encodeState(ledger, new Date()));
    this.writeCount++;
  }
}

/** The ledger in the state file at path; a missing file is an empty ledger. */
export async function loadState(path: string): Promise<Ledger> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Ledger.EMPTY;
    throw new StateFileError(path, `it cannot be read (${messageOf(error)})`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new StateFileError(path, 'it is not valid UTF-8');
  }
  return decodeState(text, path);
}

/** The wire gets the errno code only; the log has the full message with its paths. */
function stateWriteFailed(cause: unknown): DomainError {
  return DomainErrors.stateWriteFailed((cause as NodeJS.ErrnoException | undefined)?.code ?? 'write error');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
