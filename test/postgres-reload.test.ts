import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import type { StepRecord } from '../src/state/types.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A settings change whose pg_settings.context allows it is applied by reload (same
// server process, the new value seen by a session opened before), one that needs a
// new process restarts the server.

const stackText = (settings: string): string => `name: reload-test
services:
  db:
    postgres: { version: "15", settings: { ${settings} } }
    volume: db-data
`;

let dir: string;
let state: string;
let direct: pg.ClientConfig;

async function apply(settings: string): Promise<Record<string, unknown>> {
  writeFileSync(join(dir, 'symphony.yaml'), stackText(settings));
  const r = await symphony(['apply', '--yes', '--json'], { cwd: dir });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const step = json<{ steps: StepRecord[] }>(r).steps.find((s) => s.name === 'db:replace-in-place');
  expect(step?.status).toBe('done');
  return step!.detail as Record<string, unknown>;
}

async function one<T>(sql: string): Promise<T> {
  const c = new pg.Client(direct);
  await c.connect();
  try {
    return (await c.query<{ v: T }>(sql)).rows[0].v;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': stackText('work_mem: 4MB') });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const store = new StateStore(state);
  const password = new SecretVault(store).get('default', 'db.password');
  const port = store.service('default', 'db')!.ports.port;
  store.close();
  direct = { host: '127.0.0.1', port, user: 'reload_test', database: 'reload_test', password };
}, 120_000);

afterAll(async () => {
  if (state) await cleanup(state);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postgres settings change in place', () => {
  it('reloads a user-context setting: same postmaster, an open session sees the new value', async () => {
    const session = new pg.Client(direct);
    await session.connect();
    try {
      const pid = await one<number>('SELECT pg_backend_pid() AS v');
      const postmaster = await one<string>('SELECT pg_postmaster_start_time()::text AS v');
      expect(pid).toBeGreaterThan(0);
      expect((await session.query('SHOW work_mem')).rows[0].work_mem).toBe('4MB');

      const result = await apply('work_mem: 8MB');
      expect(result).toMatchObject({ restarted: [], reloaded: [expect.stringMatching(/^db-/)] });
      expect(String((result.detail as string[])[0])).toContain('work_mem has pg_settings.context user');

      expect(await one<string>('SELECT pg_postmaster_start_time()::text AS v')).toBe(postmaster);
      expect((await session.query('SHOW work_mem')).rows[0].work_mem).toBe('8MB');
      expect(await one<string>("SELECT current_setting('work_mem') AS v")).toBe('8MB');
      // The current release's instance is the same process.
      const store = new StateStore(state);
      const rec = store.service('default', 'db')!;
      const live = store.instances('default', { release: rec.currentRelease!, live: true });
      store.close();
      expect(live.map((i) => i.ordinal)).toContain('0');
    } finally {
      await session.end();
    }
  }, 90_000);

  it('refuses a bad value with the server message and changes nothing', async () => {
    const postmaster = await one<string>('SELECT pg_postmaster_start_time()::text AS v');
    writeFileSync(join(dir, 'symphony.yaml'), stackText('work_mem: lots'));
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/invalid value for parameter "work_mem": "lots"/);
    expect(await one<string>("SELECT current_setting('work_mem') AS v")).toBe('8MB');
    expect(await one<string>('SELECT pg_postmaster_start_time()::text AS v')).toBe(postmaster);
  }, 90_000);

  it('restarts for a postmaster-context setting', async () => {
    const postmaster = await one<string>('SELECT pg_postmaster_start_time()::text AS v');
    const result = await apply('work_mem: 8MB, max_connections: 120');
    expect(result).toMatchObject({ reloaded: [], restarted: [expect.stringMatching(/^db-/)] });
    expect(String((result.detail as string[])[0])).toContain('max_connections (context postmaster) needs a restart');
    expect(await one<string>('SELECT pg_postmaster_start_time()::text AS v')).not.toBe(postmaster);
    expect(await one<string>("SELECT current_setting('max_connections') AS v")).toBe('120');
    expect(await one<string>("SELECT current_setting('work_mem') AS v")).toBe('8MB');
  }, 90_000);
});
