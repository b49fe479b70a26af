// A clock the test moves by hand: timers fire only inside advance(), in the order they are due,
// so a test of a timeout neither sleeps nor depends on how loaded the machine is.
import type { Clock, Timer } from '../../src/clock/index.js';

interface Pending {
  readonly due: number;
  readonly ms: number;
  readonly fn: () => void;
  readonly seq: number;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];
  #watchers: { readonly ms: number; readonly wake: () => void }[] = [];

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    const entry: Pending = { due: this.#now + ms, ms, fn, seq: this.#seq++ };
    this.#pending.push(entry);
    for (const watcher of this.#watchers.filter((w) => w.ms === ms)) watcher.wake();
    this.#watchers = this.#watchers.filter((w) => w.ms !== ms);
    return { cancel: () => (this.#pending = this.#pending.filter((p) => p !== entry)) };
  }

  /** Timers set and not yet fired or cancelled, by their duration. */
  armed(ms: number): number {
    return this.#pending.filter((p) => p.ms === ms).length;
  }

  /** Settles once a timer of this duration is set (at once when one already is). */
  whenArmed(ms: number): Promise<void> {
    if (this.armed(ms) > 0) return Promise.resolve();
    return new Promise((wake) => this.#watchers.push({ ms, wake }));
  }

  /** Moves time forward, firing every timer that falls due on the way, earliest first. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = this.#pending
        .filter((p) => p.due <= until)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#pending = this.#pending.filter((p) => p !== next);
      this.#now = next.due;
      next.fn();
    }
    this.#now = until;
  }
}
