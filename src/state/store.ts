// The durable ledger. Changes are planned one at a time, in arrival order, against the latest
// ledger, and written by group commit: while one write is in flight the next changes queue, and one
// write then covers them all. A caller hears back only once a write holding its change is durable,
// and view() shows only durable ledgers, so nothing a reader saw is ever rolled back.
//
// A failed write is answered honestly: "nothing was changed" only when the disk
// is known to hold the last saved state. When a write failed after its rename (the file may hold
// the change), that state is written again before the failure is answered; if that fails too, the
// answer says the file may hold the change, and the store keeps trying to put the file right (each
// later change's write would do it, and a retry in the background does it meanwhile).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { DomainErrors, type DomainError } from '../../schema/index.js';
import { Ledger } from '../allocator/index.js';
import type { ChangeOrigin, Plan } from '../allocator/index.js';
import { StateFileError } from './errors.js';
import { STATE_FILE, decodeState, encodeState } from './state-file.js';
import { StateLock } from './lock.js';
import { durableWriter, StateWriteError } from './writer.js';
import type { DiskOutcome, StateWriter } from './writer.js';

export type StateLogger = Pick<Logger, 'warn' | 'error'>;

export interface LedgerStoreOptions {
  writer?: StateWriter;
  logger?: StateLogger;
  /** First delay before the file is written again in the background after it could not be put right. */
  repairRetryMs?: number;
}

const REPAIR_RETRY_MS = 1000;
const REPAIR_RETRY_MAX_MS = 30_000;

/** One change made durable: the ledgers around it and who asked for it. */
export interface Commit {
  readonly before: Ledger;
  readonly after: Ledger;
  readonly origin: ChangeOrigin | undefined;
}

/**
 * Told of what the store does, as it happens: the one place where changes become durable, so
 * whatever must follow a change (notifications, metrics) hangs off it. Called synchronously; an
 * observer that throws is logged and does not disturb the store.
 */
export interface StoreObserver {
  /** Changes just made durable, in the order they were planned, before their callers hear back. */
  committed?(commits: readonly Commit[]): void;
  /** A write of the state file ended (a repair's too). */
  wrote?(write: { readonly ok: boolean; readonly seconds: number }): void;
}

interface Waiter {
  /** Undefined for a plan that changed nothing. */
  readonly commit: Commit | undefined;
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
  private repairTimer: NodeJS.Timeout | undefined;
  private repairDelayMs: number;
  private sure: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly observers = new Set<StoreObserver>();

  private constructor(
    readonly dir: string,
    private durable: Ledger,
    private readonly lock: StateLock,
    private readonly writer: StateWriter,
    private readonly logger: StateLogger | undefined,
    private readonly repairRetryMs: number,
  ) {
    this.tip = durable;
    this.repairDelayMs = repairRetryMs;
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
      return new LedgerStore(stateDir, ledger, lock, writer, opts.logger, opts.repairRetryMs ?? REPAIR_RETRY_MS);
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

  /** Whether the file may hold a state other than the last saved one (a write failed after its rename). */
  get diskUncertain(): boolean {
    return this.diskUnsure;
  }

  /** Settles once the file is known to hold the last saved state (at once when it already is). */
  whenDiskCertain(): Promise<void> {
    if (!this.diskUnsure) return Promise.resolve();
    if (!this.sure) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.sure = { promise, resolve };
    }
    return this.sure.promise;
  }

  /** Adds an observer; returns what removes it. */
  observe(observer: StoreObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Runs plan against the latest ledger and resolves with its result once the new ledger is
   * durable. A plan that throws changes nothing. A failed write rejects, with STATE_WRITE_FAILED,
   * every change in it and every change planned on top of it, and memory returns to the last
   * durable ledger. A plan that changes nothing still waits for the changes it saw to be durable.
   * `origin` says who asked, for the observers.
   */
  async update<T>(plan: (current: Ledger) => Plan<T>, origin?: ChangeOrigin): Promise<T> {
    if (this.closed) throw new Error('The state store is closed');
    const before = this.tip;
    const { next, result } = plan(before);
    this.tip = next;
    const commit = next === before ? undefined : { before, after: next, origin };
    await new Promise<void>((resolve, reject) => {
      this.queued.push({ commit, resolve, reject });
      this.flush();
    });
    return result;
  }

  /** Waits for pending writes and releases the lock; later updates are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.repairTimer);
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
          this.markCertain();
          const commits = batch.flatMap((waiter) => (waiter.commit ? [waiter.commit] : []));
          if (commits.length > 0) this.tell((observer) => observer.committed?.(commits));
          for (const waiter of batch) waiter.resolve();
        },
        async (error: unknown) => {
          const failed = [...batch, ...this.queued];
          this.queued = [];
          this.tip = this.durable;
          this.logger?.error(`Could not save the state to ${this.path}: ${messageOf(error)}`);
          const outcome = await this.putRight(error);
          for (const waiter of failed) waiter.reject(stateWriteFailed(error, outcome));
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        this.flush();
      });
  }

  /**
   * After a failed write: what the file holds now. A file the write may have replaced is written
   * again with the last saved state; if that fails too it stays uncertain, and is retried later.
   */
  private async putRight(error: unknown): Promise<DiskOutcome> {
    if (!(error instanceof StateWriteError) || error.outcome === 'uncertain') this.diskUnsure = true;
    if (!this.diskUnsure) return 'unchanged';
    try {
      await this.persist(this.durable);
    } catch (repairError) {
      this.logger?.error(`Could not put ${this.path} back to the last saved state: ${messageOf(repairError)}; it may hold a refused change`);
      this.scheduleRepair();
      return 'uncertain';
    }
    this.logger?.warn(`Put ${this.path} back to the last saved state after a failed write`);
    this.markCertain();
    return 'unchanged';
  }

  /** Tries again in the background, backing off, until the file holds the last saved state. */
  private scheduleRepair(): void {
    if (this.closed || this.repairTimer !== undefined) return;
    this.repairTimer = setTimeout(() => {
      this.repairTimer = undefined;
      if (!this.diskUnsure || this.closed) return;
      if (this.inFlight) {
        // A write is under way: it settles the question, or schedules this again.
        this.scheduleRepair();
        return;
      }
      this.inFlight = this.persist(this.durable)
        .then(
          () => {
            this.logger?.warn(`Put ${this.path} back to the last saved state`);
            this.markCertain();
          },
          (error: unknown) => {
            this.repairDelayMs = Math.min(this.repairDelayMs * 2, REPAIR_RETRY_MAX_MS);
            this.logger?.error(`Still cannot write ${this.path}: ${messageOf(error)}`);
            this.scheduleRepair();
          },
        )
        .finally(() => {
          this.inFlight = undefined;
          this.flush();
        });
    }, this.repairDelayMs);
    this.repairTimer.unref();
  }

  private markCertain(): void {
    this.diskUnsure = false;
    this.repairDelayMs = this.repairRetryMs;
    this.sure?.resolve();
    this.sure = undefined;
  }

  private async persist(ledger: Ledger): Promise<void> {
    const began = performance.now();
    let ok = false;
    try {
      await this.writer.write(this.dir, STATE_FILE, encodeState(ledger, new Date()));
      this.writeCount++;
      ok = true;
    } finally {
      const seconds = (performance.now() - began) / 1000;
      this.tell((observer) => observer.wrote?.({ ok, seconds }));
    }
  }

  private tell(call: (observer: StoreObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch (error) {
        this.logger?.error(`A state observer failed: ${messageOf(error)}`);
      }
    }
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
function stateWriteFailed(cause: unknown, outcome: DiskOutcome): DomainError {
  return DomainErrors.stateWriteFailed((cause as NodeJS.ErrnoException | undefined)?.code ?? 'write error', outcome);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
