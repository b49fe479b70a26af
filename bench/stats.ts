// Timing samples and their percentiles. Every sample goes into an HDR histogram (3 significant
// digits), so a median or p99 is exact to 0.1 % whatever the spread.
import { hrtime } from 'node:process';
import { build, type Histogram } from 'hdr-histogram-js';

/** How long one figure is sampled: at least minSamples, then until maxSamples or maxMs. */
export interface Budget {
  /** Untimed runs first, so the JIT has settled before the first sample. */
  readonly warmup: number;
  readonly minSamples: number;
  readonly maxSamples: number;
  readonly maxMs: number;
}

/** Median and p99 in microseconds, and how many samples they come from. */
export interface Timing {
  readonly samples: number;
  readonly median_us: number;
  readonly p99_us: number;
}

export function histogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** Nanoseconds that fn takes. */
export function timeNs(fn: () => unknown): number {
  const start = hrtime.bigint();
  fn();
  return Number(hrtime.bigint() - start);
}

/**
 * Calls sample (which does any untimed setup, then returns the nanoseconds of the timed part)
 * as the budget allows, and summarises the samples.
 */
export function collect(budget: Budget, sample: () => number): Timing {
  for (let i = 0; i < budget.warmup; i++) sample();
  const h = histogram();
  const deadline = Date.now() + budget.maxMs;
  while (h.totalCount < budget.maxSamples && (h.totalCount < budget.minSamples || Date.now() < deadline)) {
    h.recordValue(Math.max(1, sample()));
  }
  const timing = { samples: h.totalCount, median_us: h.getValueAtPercentile(50) / 1000, p99_us: h.getValueAtPercentile(99) / 1000 };
  h.destroy();
  return timing;
}
