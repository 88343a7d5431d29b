import { describe, expect, it } from 'vitest';
import { expiredBackups, restoreWindowStart, type RetainedBackup } from './retention.js';
import type { Retention } from './types.js';

const full = (id: string, end: string): RetainedBackup => ({ id, type: 'full', end: `2026-11-${end}T03:00:00.000Z`, prior: null });
const diff = (id: string, prior: string, end: string): RetainedBackup => ({ id, type: 'diff', end: `2026-11-${end}T03:00:00.000Z`, prior });
const incr = (id: string, prior: string, end: string): RetainedBackup => ({ id, type: 'incr', end: `2026-11-${end}T03:00:00.000Z`, prior });

const week = [full('F1', '01'), diff('D1', 'F1', '02'), full('F2', '08'), incr('I2', 'F2', '09'), incr('I3', 'I2', '10'), full('F3', '15'), diff('D3', 'F3', '16')];
const now = new Date('2026-11-17T12:00:00.000Z');

const cases: Array<{ name: string; backups: RetainedBackup[]; retention: Retention; expired: string[] }> = [
  { name: 'no backups', backups: [], retention: { full: 2 }, expired: [] },
  { name: 'fewer fulls than kept', backups: week, retention: { full: 4 }, expired: [] },
  { name: 'exactly as many fulls as kept', backups: week, retention: { full: 3 }, expired: [] },
  { name: 'keep 2 fulls: the oldest full and its diff go', backups: week, retention: { full: 2 }, expired: ['F1', 'D1'] },
  { name: 'keep 1 full: an incr chain goes with its full', backups: week, retention: { full: 1 }, expired: ['F1', 'D1', 'F2', 'I2', 'I3'] },
  { name: 'days: fulls in the window, plus the newest before it', backups: week, retention: { days: 3 }, expired: ['F1', 'D1'] },
  { name: 'days: window covers everything', backups: week, retention: { days: 30 }, expired: [] },
  { name: 'days: window before every backup ended keeps the newest full', backups: week, retention: { days: 1 }, expired: ['F1', 'D1', 'F2', 'I2', 'I3'] },
  { name: 'an orphan incr (its full already gone) goes', backups: [incr('I9', 'F0', '03'), full('F4', '04')], retention: { full: 1 }, expired: ['I9'] },
  { name: 'order of the input does not matter', backups: [...week].reverse(), retention: { full: 2 }, expired: ['F1', 'D1'] },
  { name: 'only diffs and no full: all orphans', backups: [diff('D7', 'F0', '05')], retention: { days: 7 }, expired: ['D7'] },
];

describe('expiredBackups', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(expiredBackups(c.backups, c.retention, now)).toEqual(c.expired);
    });
  }
});

describe('restoreWindowStart', () => {
  it('is the end of the oldest full, or null', () => {
    expect(restoreWindowStart(week)).toBe('2026-11-01T03:00:00.000Z');
    expect(restoreWindowStart([])).toBeNull();
  });
});
