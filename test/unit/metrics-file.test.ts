// MetricsFile (src/metrics/file-exporter.ts) on its own, with figures a test hands out when it
// likes: writes never overlap, changes made during a write share the one write after it, the last
// figures always land, the period runs on the clock, and nothing is written after stop.
import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsFile, METRICS_FILE_PERIOD_MS, type DaemonMetrics } from '../../src/metrics/index.js';
import { ManualClock } from '../support/clock.js';
import { capturingLogger } from '../support/log.js';

/** Stands in for DaemonMetrics: each text() is answered when the test says, in the order asked. */
class HeldFigures {
  /** How many times the text was asked for. */
  asked = 0;
  #pending: ((text: string) => void)[] = [];
  #wake: (() => void)[] = [];
  #holding = false;

  /** From now on, text() waits for answer(). */
  hold(): void {
    this.#holding = true;
  }

  text(): Promise<string> {
    this.asked++;
    for (const wake of this.#wake.splice(0)) wake();
    if (!this.#holding) return Promise.resolve(`figures ${this.asked}\n`);
    return new Promise((resolve) => this.#pending.push(resolve));
  }

  /** Settles once text() has been asked for `n` times in all. */
  async whenAsked(n: number): Promise<void> {
    while (this.asked < n) await new Promise<void>((wake) => this.#wake.push(wake));
  }

  /** Answers the oldest text() waiting, and stops holding. */
  answer(text: string): void {
    this.#holding = false;
    const next = this.#pending.shift();
    if (next === undefined) throw new Error('no text() is waiting');
    next(text);
  }
}

describe('metrics: MetricsFile', () => {
  let dir: string;
  let path: string;
  let figures: HeldFigures;
  let clock: ManualClock;
  let file: MetricsFile;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-metrics-file-'));
    path = join(dir, 'epa.prom');
    figures = new HeldFigures();
    clock = new ManualClock();
    file = new MetricsFile(path, figures as unknown as DaemonMetrics, clock, capturingLogger().logger);
  });

  afterEach(async () => {
    await file.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes once at start and arms the period', async () => {
    await file.start();
    expect(await readFile(path, 'utf8')).to.equal('figures 1\n');
    expect(clock.armed(METRICS_FILE_PERIOD_MS)).to.equal(1);
  });

  it('gives the changes made during a write one more write, after it, with the last figures', async () => {
    await file.start();
    figures.hold();
    file.changed();
    await figures.whenAsked(2);
    // Five changes while the second write waits for its figures.
    for (let i = 0; i < 5; i++) file.changed();
    const landed = file.write();
    figures.answer('figures 2\n');
    await landed;
    expect(figures.asked, 'start, the write under way, and one after it').to.equal(3);
    expect(await readFile(path, 'utf8')).to.equal('figures 3\n');
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);
  });

  it('writes every 15 s of the clock, and not before', async () => {
    await file.start();
    clock.advance(METRICS_FILE_PERIOD_MS - 1);
    expect(figures.asked).to.equal(1);
    clock.advance(1);
    expect(figures.asked).to.equal(2);
    await file.write();
    clock.advance(2 * METRICS_FILE_PERIOD_MS);
    expect(figures.asked, 'two more periods, two more writes').to.be.at.least(4);
    expect(clock.armed(METRICS_FILE_PERIOD_MS)).to.equal(1);
  });

  it('stop waits for the write under way, then writes nothing more and disarms the period', async () => {
    await file.start();
    figures.hold();
    file.changed();
    await figures.whenAsked(2);
    let stopped = false;
    const stopping = file.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped, 'still writing').to.equal(false);
    figures.answer('figures 2\n');
    await stopping;
    expect(await readFile(path, 'utf8'), 'the write under way landed').to.equal('figures 2\n');
    expect(clock.armed(METRICS_FILE_PERIOD_MS)).to.equal(0);

    file.changed();
    await file.write();
    clock.advance(METRICS_FILE_PERIOD_MS);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(figures.asked, 'nothing after stop').to.equal(2);
  });
});
