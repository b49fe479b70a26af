// Time as the daemon sees it. Everything that judges an age or waits for a timeout asks a Clock,
// so tests drive time by hand instead of sleeping, and a loaded machine cannot make them flake.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, as Date.now. */
  now(): number;
  /** Calls fn once, ms from now, unless cancelled first. */
  after(ms: number, fn: () => void): Timer;
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};
