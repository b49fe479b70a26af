// The one state writer the tests control: the real durable writer, whose writes can be held at a
// gate (a test sees a change before it is durable) or failed at a chosen step with a chosen errno
// (before the rename the file is unchanged; after it, it is uncertain).
import { createDurableWriter, type StateWriter, type WriteStep } from '../../src/state/index.js';

interface Fault {
  readonly step: WriteStep;
  readonly code: string;
  /** Writes left to fail; Infinity until cleared. */
  left: number;
}

export class FaultyWriter implements StateWriter {
  /** Every text a write was asked for, in order. */
  readonly texts: string[] = [];
  /** Writes that failed because of a fault. */
  failures = 0;
  #fault: Fault | undefined;
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;
  #waiting = 0;
  #arrived: (() => void) | undefined;
  readonly #real = createDurableWriter({ beforeStep: (step) => this.#before(step) });

  /** Writes fail at `step` with errno `code`, `times` times (every time, by default) until clear(). */
  failAt(step: WriteStep, code: string, times = Infinity): void {
    this.#fault = { step, code, left: times };
  }

  clear(): void {
    this.#fault = undefined;
  }

  /** From now on, writes wait before they start until release(). */
  hold(): void {
    this.#gate ??= new Promise((resolve) => (this.#open = resolve));
  }

  /** Lets the held writes go on, and stops holding. */
  release(): void {
    this.#gate = undefined;
    this.#open();
  }

  /** Writes waiting at the gate. */
  get pending(): number {
    return this.#waiting;
  }

  /** Resolves once a write waits at the gate. */
  async held(): Promise<void> {
    if (this.#waiting > 0) return;
    await new Promise<void>((resolve) => (this.#arrived = resolve));
  }

  async write(dir: string, file: string, text: string): Promise<void> {
    this.texts.push(text);
    const gate = this.#gate;
    if (gate) {
      this.#waiting++;
      this.#arrived?.();
      await gate;
      this.#waiting--;
    }
    await this.#real.write(dir, file, text);
  }

  async removeLeftovers(dir: string, file: string): Promise<void> {
    await this.#real.removeLeftovers?.(dir, file);
  }

  #before(step: WriteStep): void {
    const fault = this.#fault;
    if (fault?.step !== step || fault.left <= 0) return;
    fault.left--;
    this.failures++;
    throw Object.assign(new Error(`${fault.code}: injected at ${step}`), { code: fault.code });
  }
}
