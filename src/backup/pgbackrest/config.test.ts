import { describe, expect, it } from 'vitest';
import { postgresKind } from '../../kinds/postgres/index.js';
import { parseInfo } from './info.js';
import { pgTime } from './driver.js';

const ctx = (backup: unknown) => ({
  stack: 'shop', env: 'prod', service: 'db', stackDir: '/srv/shop', volumePath: '/st/volumes/prod/shop-db', ports: { port: 21001 },
  spec: { postgres: { version: '15' }, volume: 'shop-db', ...(backup ? { backup } : {}) },
});

describe('archiving settings of a postgres service', () => {
  it('a backup: section turns on archiving to pgBackRest with the config under the state dir', () => {
    const [d] = postgresKind.instances(ctx({ retention: { full: 2 } }));
    // Settings reach the server through the settings file the command writes (postgresql.symphony.conf).
    expect(d.command).toContain("archive_command = 'pgbackrest --config=/st/backup/prod/db/pgbackrest.conf --stanza=db archive-push %p'\narchive_mode = 'on'\narchive_timeout = '60s'\n");
  });
  it('no backup: section, no archiving', () => {
    expect(postgresKind.instances(ctx(null))[0].command).not.toContain('archive');
  });
});

describe('pgBackRest output and input', () => {
  it('reads backups oldest first, leaving out failed ones', () => {
    const json = JSON.stringify([{ name: 'db', archive: [{ min: '000000010000000000000001', max: '000000010000000000000009' }], backup: [
      { label: 'B2I', type: 'incr', prior: 'B1F', timestamp: { start: 1796322048, stop: 1796322049 }, info: { size: 20, repository: { delta: 2 } }, archive: { start: 'w4', stop: 'w4' } },
      { label: 'B1F', type: 'full', prior: null, timestamp: { start: 1796322045, stop: 1796322047 }, info: { size: 10, repository: { delta: 5 } }, archive: { start: 'w2', stop: 'w2' } },
      { label: 'BAD', type: 'full', prior: null, error: true, timestamp: { start: 1796322050, stop: 1796322051 }, info: { size: 1, repository: { delta: 1 } } },
    ] }]);
    const { backups, wal } = parseInfo(json, 'db');
    expect(backups.map((b) => [b.id, b.type, b.end, b.repoBytes, b.prior])).toEqual([
      ['B1F', 'full', '2026-12-03T18:20:47.000Z', 5, null],
      ['B2I', 'incr', '2026-12-03T18:20:49.000Z', 2, 'B1F'],
    ]);
    expect(wal).toEqual({ min: '000000010000000000000001', max: '000000010000000000000009' });
    expect(parseInfo(json, 'other')).toEqual({ backups: [], wal: null });
  });
  it('writes a target time the way pgBackRest reads it, keeping every digit', () => {
    expect(pgTime('2026-12-03T18:30:37.486123Z')).toBe('2026-12-03 18:30:37.486123+00');
    expect(pgTime('2026-12-03T19:30:37+01:00')).toBe('2026-12-03 19:30:37+01:00');
  });
});
