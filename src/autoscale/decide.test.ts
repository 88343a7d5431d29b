import { describe, expect, it } from 'vitest';
import { autoscaleConfig } from './config.js';
import { decide, type Recommendation } from './decide.js';

const NOW = 1_000_000;
const samples = (...cpu: number[]) => cpu.map((c, i) => ({ at: NOW - (cpu.length - 1 - i) * 15_000, cpu: c }));
const stepCfg = autoscaleConfig({ min: 1, max: 6, cpu: { up: 0.7, down: 0.2 }, periods: 2, cooldown: { up: '0s', down: '300s' } });
const targetCfg = autoscaleConfig({ min: 1, max: 10, mode: 'target', cpu: { target: 0.5 }, periods: 1, cooldown: { down: '300s' } });

describe('decide, step mode (thresholds)', () => {
  const table: Array<[string, number, number[], number | null, number | null, string | null]> = [
    // name, current, samples, last scale ms ago, -> to, reason
    ['twice above up: one more', 2, [0.84, 0.79], null, 3, 'cpu 84%, 79% > 70%'],
    ['only the last above up: nothing', 2, [0.5, 0.9], null, null, null],
    ['one sample is not two in a row', 2, [0.9], null, null, null],
    ['above up at max: nothing', 6, [0.95, 0.99], null, null, null],
    ['twice below down: one fewer', 3, [0.1, 0.05], 400_000, 2, 'cpu 10%, 5% < 20%'],
    ['below down within the down cooldown: nothing', 3, [0.1, 0.05], 100_000, null, null],
    ['below down at min: nothing', 1, [0.01, 0.01], null, null, null],
    ['up has no cooldown by default: scales right after a scaling', 3, [0.9, 0.9], 1_000, 4, 'cpu 90%, 90% > 70%'],
    ['between the thresholds: nothing', 3, [0.5, 0.3], null, null, null],
    ['older samples do not count, only the last two', 3, [0.9, 0.9, 0.5, 0.9], null, null, null],
    ['exactly at up is not above it', 2, [0.7, 0.7], null, null, null],
    ['below min (the file changed): back to min whatever the samples', 0, [], null, 1, 'below min 1'],
    ['above max: back to max', 8, [0.9, 0.9], null, 6, 'above max 6'],
  ];
  it.each(table)('%s', (_n, current, cpu, ago, to, reason) => {
    const d = decide(stepCfg, { current, samples: samples(...cpu), lastScaleAt: ago === null ? null : NOW - ago, recommendations: [] }, NOW);
    expect(d.decision?.to ?? null).toBe(to);
    if (reason) expect(d.decision?.reason).toBe(reason);
  });

  it('step: 2 adds two at a time, clamped to max', () => {
    const cfg = autoscaleConfig({ min: 1, max: 5, step: 2 });
    expect(decide(cfg, { current: 2, samples: samples(0.9, 0.9), lastScaleAt: null, recommendations: [] }, NOW).decision?.to).toBe(4);
    expect(decide(cfg, { current: 4, samples: samples(0.9, 0.9), lastScaleAt: null, recommendations: [] }, NOW).decision?.to).toBe(5);
  });
});

describe('decide, target mode (the Kubernetes HPA formula)', () => {
  const rec = (ago: number, desired: number): Recommendation => ({ at: NOW - ago, desired });
  const table: Array<[string, number, number, Recommendation[], number | null, number]> = [
    // name, current, cpu, earlier recommendations, -> to, recommendation recorded
    ['ceil(2 × 84/50) = 4', 2, 0.84, [], 4, 4],
    ['ceil(3 × 90/50) = 6', 3, 0.9, [], 6, 6],
    ['within 10% of the target: no change', 4, 0.54, [], null, 4],
    ['just outside 10%: ceil(4 × 1.12) = 5', 4, 0.56, [], 5, 5],
    ['clamped to max 10', 4, 2.0, [], 10, 10],
    ['down: ceil(4 × 0.2) = 1, nothing higher in the window', 4, 0.1, [rec(400_000, 4)], 1, 1],
    ['down is held by a higher recommendation of the last 300 s', 4, 0.1, [rec(100_000, 4)], null, 1],
    ['down goes to the highest recommendation in the window', 6, 0.1, [rec(200_000, 3), rec(100_000, 2)], 3, 2],
    ['clamped to min 1 at zero load', 2, 0, [], 1, 1],
  ];
  it.each(table)('%s', (_n, current, cpu, recs, to, recommended) => {
    const d = decide(targetCfg, { current, samples: samples(cpu), lastScaleAt: null, recommendations: recs }, NOW);
    expect(d.decision?.to ?? null).toBe(to);
    expect(d.recommendation?.desired).toBe(recommended);
  });

  it('says the formula and its numbers', () => {
    const d = decide(targetCfg, { current: 2, samples: samples(0.84), lastScaleAt: null, recommendations: [] }, NOW);
    expect(d.decision).toEqual({ from: 2, to: 4, reason: 'cpu 84% vs target 50%: ceil(2 × 1.68) = 4' });
  });

  it('periods: usage is the mean of the last samples', () => {
    const cfg = autoscaleConfig({ min: 1, max: 10, mode: 'target', cpu: { target: 0.5 }, periods: 2 });
    expect(decide(cfg, { current: 2, samples: samples(0.3, 0.9), lastScaleAt: null, recommendations: [] }, NOW).decision?.to).toBe(3);
  });
});
