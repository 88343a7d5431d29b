import { describe, expect, it } from 'vitest';
import type { ReleaseConfig } from '../plan/types.js';
import { asideName, makeRestorePlan, type RestorePlanInput } from './restore-plan.js';
import type { BackupInfo } from './types.js';

const config = {
  stack: 'shop', stackDir: '/s', service: 'db', kind: 'postgres', runtime: 'process', artifact: 'x', instances: [], health: null,
  deploy: {} as ReleaseConfig['deploy'], ports: { port: 21000 }, volume: 'shop-db', volumePath: '/st/volumes/default/shop-db',
  secretDigests: {}, generatedSecrets: [], spec: { postgres: { version: '15' }, volume: 'shop-db', backup: {} },
} as ReleaseConfig;
const backup = (id: string, end: string): BackupInfo => ({ id, type: 'full', start: end, end, bytes: 1, repoBytes: 1, prior: null, wal: null });
const base: RestorePlanInput = {
  stack: 'shop', env: 'default', stackFile: '/s/symphony.yaml', serial: 7, service: 'db', release: 'db-1234abcd', config,
  target: { time: '2026-12-03T12:00:00Z' }, backups: [backup('B1', '2026-12-03T10:00:00.000Z')], now: new Date('2026-12-03T13:00:00.000Z'),
};

describe('makeRestorePlan', () => {
  it('stops, keeps the volume aside, fetches, starts and checks the current release', () => {
    const plan = makeRestorePlan(base);
    expect(plan.kind).toBe('restore');
    expect(plan.steps.map((s) => s.name)).toEqual(['db:restore-stop', 'db:restore-aside', 'db:restore-fetch', 'db:start', 'db:health']);
    expect(plan.steps.every((s) => s.release === 'db-1234abcd')).toBe(true);
    expect(plan.steps[1].restore).toEqual({ target: { time: '2026-12-03T12:00:00Z' }, aside: 'shop-db-before-restore-20261203T130000Z', asidePath: '/st/volumes/default/shop-db-before-restore-20261203T130000Z' });
    expect(plan.changes[0].reasons).toEqual(['restore to 2026-12-03T12:00:00Z', 'current volume kept aside as shop-db-before-restore-20261203T130000Z']);
  });

  const refused: Array<[string, Partial<RestorePlanInput>, RegExp]> = [
    ['a time before the oldest backup', { target: { time: '2026-12-03T09:59:59Z' } }, /before the oldest backup \(2026-12-03T10:00:00.000Z\)/],
    ['a time in the future', { target: { time: '2026-12-03T13:00:01Z' } }, /in the future/],
    ['a time that is not one', { target: { time: 'yesterday' } }, /is not a time/],
    ['a time without a zone (local time is ambiguous)', { target: { time: '2026-12-03T12:00:00' } }, /is not a time/],
    ['an unknown backup', { target: { backup: 'B9' } }, /has no backup B9/],
    ['no backups at all', { backups: [] }, /has no backup to restore from/],
    ['a service without backup:', { config: { ...config, spec: { postgres: { version: '15' } } } }, /has no backup: section/],
  ];
  for (const [name, patch, msg] of refused) {
    it(`refuses ${name}`, () => {
      expect(() => makeRestorePlan({ ...base, ...patch })).toThrow(msg);
    });
  }

  it('keeps the digits of the time as given (microseconds reach the server)', () => {
    expect(makeRestorePlan({ ...base, target: { time: '2026-12-03T12:00:00.123456+00:00' } }).steps[0].restore?.target).toEqual({ time: '2026-12-03T12:00:00.123456+00:00' });
  });

  it('restores a named backup to its end', () => {
    expect(makeRestorePlan({ ...base, target: { backup: 'B1' } }).steps[2].restore?.target).toEqual({ backup: 'B1' });
  });
});

describe('asideName', () => {
  it('is the volume name with the moment, in UTC', () => {
    expect(asideName('kv', new Date('2026-01-02T03:04:05.678Z'))).toBe('kv-before-restore-20260102T030405Z');
  });
});
