import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupListing, BackupSummary } from '../src/backup/actions.js';
import type { VerificationRecord } from '../src/backup/records.js';
import type { BackupInfo } from '../src/backup/types.js';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';

const stack = (schedule = '') => `name: bk
services:
  db:
    postgres: { version: "15", settings: { fsync: "off" } }
    volume: bk-db
    backup:
${schedule}      retention: { full: 2 }
      verify: { check: "select count(*) >= 100 from orders" }
`;

async function client(state: string, port: number): Promise<pg.Client> {
  const store = new StateStore(state);
  const password = new SecretVault(store).get('default', 'db.password');
  store.close();
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'bk', database: 'bk', password });
  await c.connect();
  return c;
}

function dbPort(state: string): number {
  const store = new StateStore(state);
  const port = store.service('default', 'db')!.ports.port;
  store.close();
  return port;
}

describe('backups and restores of a postgres service (pgBackRest)', () => {
  let dir: string;
  let state: string;
  const cli = (...args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
  const count = async (sql = 'select count(*)::int as n from orders') => {
    const c = await client(state, dbPort(state));
    try {
      return (await c.query<{ n: number }>(sql)).rows[0].n;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    dir = stackDir({ 'symphony.yaml': stack() });
    state = join(dir, '.symphony');
    const r = await cli('apply', '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (state) await cleanup(state);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let empty: BackupInfo;
  it('takes a full backup of a server that archives its WAL; verifying it fails the check (no orders yet) and says why', async () => {
    const r = await cli('backup', 'now', 'db', '--wait', '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    empty = json<{ backup: BackupInfo }>(r).backup;
    expect(empty.type).toBe('full');
    const v = await cli('backup', 'verify', 'db', '--json');
    expect(v.code).toBe(1);
    const rec = json<VerificationRecord>(v);
    expect(rec).toMatchObject({ backup: empty.id, ok: false });
    expect(rec.detail).toMatch(/relation "orders" does not exist/);
  }, 120_000);

  let withOrders: BackupInfo;
  it('a backup with the rows passes verification on a throwaway server that leaves nothing behind', async () => {
    const c = await client(state, dbPort(state));
    await c.query('create table orders (id serial primary key, batch text not null, at timestamptz not null default clock_timestamp())');
    await c.query(`insert into orders (batch) select 'base' from generate_series(1, 100)`);
    await c.end();
    withOrders = json<{ backup: BackupInfo }>(await cli('backup', 'now', 'db', '--type', 'full', '--wait', '--json')).backup;
    const v = await cli('backup', 'verify', 'db', '--json');
    expect(v.code, v.stdout).toBe(0);
    expect(json<VerificationRecord>(v)).toMatchObject({ backup: withOrders.id, ok: true, detail: 'check returned true' });
    expect(readdirSync(join(state, 'backup', 'default', 'db')).filter((n) => n.startsWith('verify-'))).toEqual([]);
    const l = json<BackupListing>(await cli('backup', 'list', 'db', '--json'));
    expect(l.backups.map((b) => [b.id, b.verified?.ok ?? null])).toEqual([[empty.id, false], [withOrders.id, true]]);
    const s = json<{ backups: BackupSummary[] }>(await cli('status', '--json'));
    expect(s.backups[0]).toMatchObject({ service: 'db', last: { id: withOrders.id }, verification: { ok: true, backup: withOrders.id }, count: 2 });
  }, 120_000);

  it('restores to a moment: rows committed before it are back, rows after it are not, the replaced volume is kept aside', async () => {
    const c = await client(state, dbPort(state));
    await c.query(`insert into orders (batch) select 'before' from generate_series(1, 50)`);
    await sleep(300);
    const t = (await c.query<{ t: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t`)).rows[0].t;
    await sleep(300);
    await c.query(`insert into orders (batch) select 'after' from generate_series(1, 70)`);
    await c.end();
    expect(await count()).toBe(220);

    const r = await cli('restore', 'db', '--to', t, '--yes');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const aside = /kept aside: volume (\S+) at (\S+)/.exec(r.stdout);
    expect(aside, r.stdout).not.toBeNull();
    expect(await count()).toBe(150);
    expect(await count(`select count(*)::int as n from orders where batch = 'after' or at > '${t}'`)).toBe(0);
    // The replaced volume is whole and recorded; history names it.
    expect(existsSync(join(aside![2], 'data', 'PG_VERSION'))).toBe(true);
    const store = new StateStore(state);
    expect(store.volumes('default').map((v) => v.name)).toContain(aside![1]);
    store.close();
    const h = json<{ operations: Array<{ kind: string; status: string; note: string | null }> }>(await cli('history', '--json'));
    expect(h.operations[0]).toMatchObject({ kind: 'restore', status: 'succeeded' });
    expect(h.operations[0].note).toContain(`kept aside as ${aside![1]}`);
  }, 180_000);

  it('refuses a moment before the oldest backup and changes nothing', async () => {
    const r = await cli('restore', 'db', '--to', '2000-01-01T00:00:00Z', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/before the oldest backup/);
    expect(r.stderr).toMatch(/next: /);
    expect(await count()).toBe(150);
  }, 60_000);

  it('retention { full: 2 } expires the oldest fulls after a new backup, and the restore window moves', async () => {
    const r = await cli('backup', 'now', 'db', '--wait', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ backup: BackupInfo; expired: string[] }>(r);
    expect(out.expired).toEqual([empty.id]);
    const l = json<BackupListing>(await cli('backup', 'list', 'db', '--json'));
    expect(l.backups.map((b) => b.id)).toEqual([withOrders.id, out.backup.id]);
    expect(l.window?.from).toBe(withOrders.end);
  }, 120_000);
});

describe('scheduled backups (croner in the agent)', () => {
  let dir: string;
  let state: string;
  beforeAll(async () => {
    dir = stackDir({ 'symphony.yaml': stack('      schedule: { full: "*/4 * * * * *" }\n') });
    state = join(dir, '.symphony');
    const r = await symphony(['apply', '--yes', '--state-dir', state], { cwd: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (state) await cleanup(state);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the agent takes the backups the schedule asks for, without anyone asking', async () => {
    let backups: BackupInfo[] = [];
    for (let i = 0; i < 60 && backups.length < 1; i++) {
      await sleep(1000);
      const l = await symphony(['backup', 'list', 'db', '--json', '--state-dir', state], { cwd: dir });
      if (l.code === 0) backups = json<BackupListing>(l).backups;
    }
    expect(backups.length).toBeGreaterThanOrEqual(1);
    const store = new StateStore(state);
    const events = store.events('default').filter((e) => e.kind === 'backup-taken');
    store.close();
    expect(events.length).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
