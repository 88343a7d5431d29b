/** What one perf stage measured. Latencies in ms. */
export interface PerfMeasure {
  requests: number;
  failures: number;
  p95: number;
}

export interface PerfLimits {
  /** Relative: p95 may be this share above the baseline (0.2 = 20%). */
  maxRegression: number;
  /** Absolute: a p95 at most this many ms above the baseline always passes. */
  toleranceMs: number;
  /** Largest share of failed requests. */
  maxErrorRate: number;
}

export interface PerfVerdict {
  passed: boolean;
  /** Median p95 of the baseline runs, null for the first run. */
  baselineP95: number | null;
  baselineRuns: number;
  reason: string;
}

export const PERF_DEFAULTS = { maxRegression: 0.2, toleranceMs: 10, maxErrorRate: 0.01, baselineRuns: 5, rate: 100, durationMs: 30_000, connections: 16, confirm: 1 } as const;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank quantile of an ascending array; 0 for an empty one. */
export function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : 0;
}

/** Fewest requests a window holds for its p95 to mean something. */
const WINDOW_REQUESTS = 50;

/**
 * The p95 the gate judges: the load is cut into windows of at least one
 * second and 50 requests (by due time), the first window is dropped as
 * warm-up (a just-started release compiles its hot paths), and the median
 * of the windows' p95s is taken. One stall of the shared machine (a GC of a
 * neighbour, a burst of the agent's own work) spoils one window, not the
 * figure; a release that is slower everywhere moves every window. Fewer
 * than three windows: the plain p95 of all requests.
 * `samples` are [due offset ms, latency ms] of the successful requests.
 */
export function steadyP95(samples: Array<[number, number]>, rate: number): { p95: number; windows: number } {
  const windowMs = Math.max(1000, Math.ceil((WINDOW_REQUESTS * 1000) / rate));
  const byWindow = new Map<number, number[]>();
  for (const [at, latency] of samples) {
    const w = Math.floor(at / windowMs);
    const xs = byWindow.get(w);
    if (xs) xs.push(latency);
    else byWindow.set(w, [latency]);
  }
  const windows = [...byWindow.entries()].sort((a, b) => a[0] - b[0]).map(([, xs]) => xs.sort((a, b) => a - b));
  if (windows.length < 3) return { p95: quantile(samples.map((x) => x[1]).sort((a, b) => a - b), 0.95), windows: 0 };
  const steady = windows.slice(1);
  return { p95: median(steady.map((xs) => quantile(xs, 0.95))), windows: steady.length };
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 2 : 0)}%`;

/**
 * The perf gate, pure: fail on too many failed requests, or when p95 is
 * worse than the median p95 of the baseline runs (the last passing ones) by
 * more than `maxRegression` *and* by more than `toleranceMs`. Both tests,
 * because a relative limit alone fails a 2 ms app on 1 ms of scheduler
 * noise, and an absolute one alone misses a slow app getting 50% slower.
 * Without baseline runs the run passes and becomes the baseline.
 */
export function judgePerf(m: PerfMeasure, baselineP95s: number[], limits: PerfLimits): PerfVerdict {
  const n = baselineP95s.length;
  if (m.requests === 0) return { passed: false, baselineP95: n ? median(baselineP95s) : null, baselineRuns: n, reason: 'no request was sent' };
  const errorRate = m.failures / m.requests;
  const base = n ? median(baselineP95s) : null;
  if (errorRate > limits.maxErrorRate) {
    return { passed: false, baselineP95: base, baselineRuns: n, reason: `${m.failures} of ${m.requests} requests failed (${pct(errorRate)}, limit ${pct(limits.maxErrorRate)})` };
  }
  if (base === null) return { passed: true, baselineP95: null, baselineRuns: 0, reason: `p95 ${ms(m.p95)}: first run, sets the baseline` };
  const over = m.p95 - base;
  const ratio = base > 0 ? over / base : over > 0 ? Infinity : 0;
  const regressed = ratio > limits.maxRegression && over > limits.toleranceMs;
  const sign = over >= 0 ? '+' : '-';
  const change = `${sign}${ms(Math.abs(over))}${Number.isFinite(ratio) ? `, ${sign}${pct(Math.abs(ratio))}` : ''}`;
  const reason = `p95 ${ms(m.p95)} vs baseline ${ms(base)} (median of ${n} passing run${n === 1 ? '' : 's'}): ${change}; limit ${pct(limits.maxRegression)} and ${ms(limits.toleranceMs)}`;
  return { passed: !regressed, baselineP95: base, baselineRuns: n, reason: regressed ? `regression: ${reason}` : reason };
}
