import { describe, expect, it } from 'vitest';
import { judgePerf, median, PERF_DEFAULTS, steadyP95 } from './verdict.js';

const limits = { maxRegression: PERF_DEFAULTS.maxRegression, toleranceMs: PERF_DEFAULTS.toleranceMs, maxErrorRate: PERF_DEFAULTS.maxErrorRate };
const run = (p95: number, failures = 0, requests = 1000) => ({ requests, failures, p95 });

describe('judgePerf', () => {
  const table: Array<[string, ReturnType<typeof run>, number[], boolean, number | null]> = [
    ['first run passes and sets the baseline', run(40), [], true, null],
    ['first run with too many errors fails', run(4, 11), [], false, null],
    ['unchanged passes', run(3.1), [3, 2.9, 3.2], true, 3],
    ['faster passes', run(1), [3, 3, 3], true, 3],
    ['+300% but only 6 ms above passes: noise', run(8), [2, 2, 2], true, 2],
    ['+20 ms fails', run(22.5), [2.4, 2.5, 2.6, 2.5, 2.3], false, 2.5],
    ['+15% of a slow app, 15 ms above, passes: under the relative limit', run(115), [100, 100], true, 100],
    ['+25% of a slow app, 25 ms above, fails', run(125), [100, 100], false, 100],
    ['exactly at both limits passes', run(60), [50], true, 50],
    ['the baseline is the median: one slow outlier does not move it', run(25), [3, 3, 200, 3, 3], false, 3],
    ['even count: median of the middle two', run(5), [2, 4, 6, 8], true, 5],
    ['1% errors is allowed', run(3, 10), [3], true, 3],
    ['1.1% errors fails even when fast', run(1, 11), [3], false, 3],
    ['no request fails', run(0, 0, 0), [3], false, 3],
    ['zero baseline, 11 ms fails', run(11), [0, 0], false, 0],
  ];
  it.each(table)('%s', (_name, m, base, passed, baseline) => {
    const v = judgePerf(m, base, limits);
    expect(v.passed).toBe(passed);
    expect(v.baselineP95).toBe(baseline);
    expect(v.baselineRuns).toBe(base.length);
  });

  it('says both numbers and the limits', () => {
    expect(judgePerf(run(22.5), [2.5, 2.5, 2.5], limits).reason).toBe(
      'regression: p95 22.5 ms vs baseline 2.5 ms (median of 3 passing runs): +20.0 ms, +800%; limit 20% and 10.0 ms',
    );
    expect(judgePerf(run(3, 20), [3], limits).reason).toBe('20 of 1000 requests failed (2.00%, limit 1.00%)');
    expect(judgePerf(run(4), [], limits).reason).toBe('p95 4.0 ms: first run, sets the baseline');
  });

  it('median', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  /** `rate` req/s for `seconds`, latency `base` ms, except `slow(at)` where it is `slowMs`. */
  const load = (rate: number, seconds: number, base: number, slow: (at: number) => boolean = () => false, slowMs = 200): Array<[number, number]> =>
    Array.from({ length: rate * seconds }, (_, k): [number, number] => {
      const at = (k * 1000) / rate;
      return [at, slow(at) ? slowMs : base + (k % 10) / 10];
    });

  describe('steadyP95', () => {
    it('one stalled second of ten does not move it; the plain p95 would be the stall', () => {
      const xs = load(100, 10, 5, (at) => at >= 4000 && at < 5000);
      expect(steadyP95(xs, 100)).toEqual({ p95: 5.9, windows: 9 });
      const plain = xs.map((x) => x[1]).sort((a, b) => a - b);
      expect(plain[Math.ceil(0.95 * plain.length) - 1]).toBe(200);
    });
    it('a release slower everywhere moves it by as much', () => {
      expect(steadyP95(load(100, 10, 25), 100).p95).toBe(25.9);
    });
    it('the first window is warm-up and left out', () => {
      expect(steadyP95(load(100, 4, 5, (at) => at < 1000), 100)).toEqual({ p95: 5.9, windows: 3 });
    });
    it('stalls in most windows are not noise: they count', () => {
      expect(steadyP95(load(100, 6, 5, (at) => at % 1000 < 100), 100).p95).toBe(200);
    });
    it('windows hold at least 50 requests: at 10 req/s they are 5 s long', () => {
      expect(steadyP95(load(10, 20, 5), 10).windows).toBe(3);
    });
    it('fewer than three windows: the plain p95', () => {
      expect(steadyP95(load(50, 2, 5, (at) => at >= 1800), 50)).toEqual({ p95: 200, windows: 0 });
    });
  });
});
