import { describe, expect, it } from 'vitest';
import { OBS } from './testing/observation.js';
import { serviceFigures } from './figures.js';
import type { Observation } from './model.js';

const later = (cpu: number, dtMs: number): Observation => ({
  ...OBS,
  at: OBS.at + dtMs,
  instances: OBS.instances.map((i) => (i.usage ? { ...i, usage: { ...i.usage, cpuSeconds: i.usage.cpuSeconds + cpu } } : i)),
});

describe('serviceFigures', () => {
  it('req/s over the window, error share, p50 of the busiest release, worst p99, CPU in cores between two observations, RSS', () => {
    expect(serviceFigures(later(0.5, 2000), OBS)).toEqual([
      { env: 'default', service: 'web', replicas: { desired: 2, ready: 1 }, rps: 0.4, errorRate: 0.1667, p50Ms: 3, p99Ms: 150, cpu: 0.25, rssBytes: 40e6 },
    ]);
  });

  it('no CPU from a single observation; no rates for a service no route leads to', () => {
    const quiet: Observation = { ...OBS, http: { bucketsS: [], releases: [], window: [], windowS: 30 } };
    expect(serviceFigures(quiet, null)[0]).toMatchObject({ rps: null, errorRate: null, p50Ms: null, p99Ms: null, cpu: null });
  });

  it('filters by environment and service', () => {
    expect(serviceFigures(OBS, null, { service: 'db' })).toEqual([]);
    expect(serviceFigures(OBS, null, { env: 'staging' })).toEqual([]);
    expect(serviceFigures(OBS, null, { env: 'default', service: 'web' })).toHaveLength(1);
  });
});
