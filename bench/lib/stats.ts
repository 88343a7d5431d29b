/**
 * Order statistics for bench samples. Benches report medians and percentiles,
 * never means alone: a 2-core machine shared with other work has long tails.
 */

/** What every bench reports for one measured quantity. */
export interface Summary {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** Median absolute deviation, a spread that one outlier does not move. */
  mad: number;
}

function sorted(xs: readonly number[]): number[] {
  const out = xs.filter((x) => Number.isFinite(x));
  if (out.length === 0) throw new RangeError('no finite samples to summarize');
  return out.sort((a, b) => a - b);
}

/**
 * The q-quantile (0..1) with linear interpolation between closest ranks
 * (the "R-7" definition used by numpy and spreadsheets).
 */
export function percentile(xs: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile must be within 0..1, got ${q}`);
  const s = sorted(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 0.5);
}

export function mean(xs: readonly number[]): number {
  const s = sorted(xs);
  return s.reduce((a, b) => a + b, 0) / s.length;
}

/** Summary of a sample: count, extremes, median, p90, p99, mean and MAD. */
export function summarize(xs: readonly number[]): Summary {
  const s = sorted(xs);
  const med = percentile(s, 0.5);
  return {
    n: s.length,
    min: s[0],
    median: med,
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    max: s[s.length - 1],
    mean: mean(s),
    mad: percentile(
      s.map((x) => Math.abs(x - med)),
      0.5,
    ),
  };
}

/** a / b of two medians, NaN when b is zero, rounded to 3 decimals for reports. */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : round(a / b, 3);
}

/** Round to a number of decimals (for JSON results that stay readable). */
export function round(x: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** A summary with every field rounded, for writing to JSON. */
export function rounded(s: Summary, decimals = 2): Summary {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v, decimals)])) as unknown as Summary;
}
