import { describe, expect, it } from 'vitest';
import { judgeCanary } from '../src/apply/shift.js';

const gate = { intervalMs: 1000, maxErrorRate: 0.01, maxP99Ratio: 2, p99ToleranceMs: 50, minRequests: 20 };
const stable = { requests: 500, errors: 0, p99Ms: 9.3 };

describe('judgeCanary', () => {
  it('fails closed on too few canary requests, naming the setting to change', () => {
    const v = judgeCanary(gate, { requests: 5, errors: 0, p99Ms: 3 }, stable);
    expect(v).toEqual({ ok: false, reason: 'only 5 canary requests (< 20): not enough to judge' });
  });

  it('fails on an error rate over the limit and says the counts', () => {
    const v = judgeCanary(gate, { requests: 100, errors: 2, p99Ms: 3 }, stable);
    expect(v.ok).toBe(false);
    expect(v.reason).toBe('canary error rate 2.0% (2/100) > 1.0%');
  });

  it('passes a p99 over the ratio that stays within the tolerance: noise on a fast service', () => {
    expect(judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 26.6 }, stable).ok).toBe(true);
    expect(judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 59.3 }, stable).ok).toBe(true);
  });

  it('fails a p99 over both the ratio and the tolerance', () => {
    const v = judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 59.4 }, stable);
    expect(v).toEqual({ ok: false, reason: 'canary p99 59.4 ms > 2x stable p99 9.3 ms' });
  });

  it('on a slow service the ratio decides, not the tolerance', () => {
    const slowStable = { requests: 500, errors: 0, p99Ms: 200 };
    expect(judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 390 }, slowStable).ok).toBe(true);
    expect(judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 410 }, slowStable).ok).toBe(false);
  });

  it('a tolerance of 0 leaves the ratio alone', () => {
    expect(judgeCanary({ ...gate, p99ToleranceMs: 0 }, { requests: 40, errors: 0, p99Ms: 19 }, stable).ok).toBe(false);
  });

  it('does not judge p99 against a stable release with too few requests of its own', () => {
    const v = judgeCanary(gate, { requests: 40, errors: 0, p99Ms: 900 }, { requests: 3, errors: 0, p99Ms: 2 });
    expect(v.ok).toBe(true);
  });
});
