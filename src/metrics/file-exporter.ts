// `--metrics-file PATH` for node_exporter's textfile collector: the file is replaced whole
// (written beside it, then renamed over it), so the collector never reads half of it; after each
// change and every 15 s. Writes never overlap; changes during a write make one more write after it.
import { rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { Clock, Timer } from '../clock/index.js';
import type { DaemonMetrics } from './registry.js';

export const METRICS_FILE_PERIOD_MS = 15_000;

export class MetricsFile {
  #timer: Timer | undefined;
  #writing: Promise<void> | undefined;
  /** The write that follows the one under way, shared by every change made meanwhile. */
  #queued: Promise<void> | undefined;
  #stopped = false;
  #failing = false;
  /** A write asked by changed() is about to start. */
  #soon = false;

  constructor(
    readonly path: string,
    private readonly metrics: DaemonMetrics,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
  ) {}

  /** Writes now, then every 15 s. */
  async start(): Promise<void> {
    await this.write();
    this.#tick();
  }

  /**
   * After a change: a write soon (one for any number of changes meanwhile). Not at once: the store
   * tells of a change before its requests are answered, and the file should count them too.
   */
  changed(): void {
    if (this.#soon) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      void this.write();
    });
  }

  /** Settles once the file holds what was asked before the call. */
  write(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#queued) return this.#queued;
    if (this.#writing) {
      this.#queued = this.#writing.then(() => {
        this.#queued = undefined;
        return this.write();
      });
      return this.#queued;
    }
    this.#writing = this.#replace().finally(() => (this.#writing = undefined));
    return this.#writing;
  }

  /** Stops the timer; waits for a write under way. The file stays, with the last figures. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    while (this.#writing ?? this.#queued) await (this.#writing ?? this.#queued);
  }

  #tick(): void {
    this.#timer = this.clock.after(METRICS_FILE_PERIOD_MS, () => {
      void this.write();
      if (!this.#stopped) this.#tick();
    });
  }

  async #replace(): Promise<void> {
    const temp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(temp, await this.metrics.text(), { mode: 0o644 });
      await rename(temp, this.path);
      if (this.#failing) this.logger.info(`metrics written to ${this.path} again`);
      this.#failing = false;
    } catch (error) {
      await rm(temp, { force: true });
      // Once per run of failures: the next success says so.
      if (!this.#failing) this.logger.warn(`cannot write the metrics file ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
      this.#failing = true;
    }
  }
}
