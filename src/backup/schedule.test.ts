import { describe, expect, it } from 'vitest';
import { desiredJobs, jobChanges } from './schedule.js';

describe('desiredJobs', () => {
  it('one job per scheduled backup type and verification, none without a schedule', () => {
    const jobs = desiredJobs([
      { env: 'default', service: 'db', backup: { schedule: { full: '0 3 * * 0', diff: '0 3 * * 1-6' }, verify: { schedule: '30 4 * * *', check: 'select true' } } },
      { env: 'staging', service: 'db', backup: { retention: { full: 2 } } },
    ]);
    expect(jobs.map((j) => [j.key, j.pattern])).toEqual([
      ['default/db/diff', '0 3 * * 1-6'],
      ['default/db/full', '0 3 * * 0'],
      ['default/db/verify', '30 4 * * *'],
    ]);
  });
});

describe('jobChanges', () => {
  const job = (key: string, pattern: string) => ({ key, env: 'default', service: 'db', what: 'full' as const, pattern });
  it('leaves unchanged jobs alone, restarts changed ones, stops removed ones, starts new ones', () => {
    const running = [job('a', '0 3 * * *'), job('b', '0 4 * * *'), job('c', '0 5 * * *')];
    const wanted = [job('a', '0 3 * * *'), job('b', '15 4 * * *'), job('d', '0 6 * * *')];
    const ch = jobChanges(running, wanted);
    expect(ch.stop).toEqual(['b', 'c']);
    expect(ch.start.map((j) => j.key)).toEqual(['b', 'd']);
  });
  it('nothing to do when they match', () => {
    expect(jobChanges([job('a', '* * * * *')], [job('a', '* * * * *')])).toEqual({ stop: [], start: [] });
  });
});
