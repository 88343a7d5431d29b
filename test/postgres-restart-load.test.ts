import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../src/state/types.js';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import { run, type RunResult } from '../src/util/exec.js';
import { freePort } from '../src/util/ports.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A postgres service applied by the CLI, given a restart-only setting (max_connections,
// pg_settings.context postmaster) while clients write through its pooler: writers on
// persistent connections, a writer opening a new connection per insert, and pgbench's
// TPC-B on persistent connections. The restart runs inside the pooler's PAUSE … RESUME,
// so no transaction may fail, and every acknowledged insert must be in the table. The
// longest held transaction is printed (numbers belong to bench/).

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';
const stackText = (port: number, maxConnections: string): string => `name: restart-load
services:
  db:
    postgres: { version: "15", port: ${port}, settings: { max_connections: ${maxConnections} } }
    volume: db-data
`;

interface Writes { acked: number[]; ackedAt: number[]; failed: string[]; longestMs: number }

let dir: string;
let state: string;
let serverPort: number;
let poolerPort: number;
let password = '';

const conn = (port = poolerPort): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'restart_load', database: 'restart_load', password, connectionTimeoutMillis: 10_000 });

async function scalar<T>(sql: string, port = serverPort): Promise<T> {
  const c = new pg.Client(conn(port));
  await c.connect();
  try {
    return (await c.query<{ v: T }>(sql)).rows[0].v;
  } finally {
    await c.end();
  }
}

function pgbench(port: number, args: string[]): Promise<RunResult> {
  return run(PGBENCH, ['-h', '127.0.0.1', '-p', String(port), '-U', 'restart_load', ...args, 'restart_load'], { env: { ...process.env, PGPASSWORD: password }, timeoutMs: 90_000 });
}

const benchNum = (r: RunResult, re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN);

/** Insert one row a transaction through the pooler until `stop`; on one connection, or on a new one per insert. */
async function writer(id: number, perInsert: boolean, stop: () => boolean, out: Writes): Promise<void> {
  let c: pg.Client | null = null;
  for (let n = 0; !stop(); n++) {
    try {
      if (!c) {
        c = new pg.Client(conn());
        c.on('error', () => undefined);
        await c.connect();
      }
      const from = Date.now();
      const res = await c.query<{ id: string }>('INSERT INTO acks (writer, n) VALUES ($1, $2) RETURNING id', [id, n]);
      out.longestMs = Math.max(out.longestMs, Date.now() - from);
      out.acked.push(Number(res.rows[0].id));
      out.ackedAt.push(Date.now());
    } catch (err) {
      out.failed.push(`writer ${id}: ${(err as Error).message}`);
      await c?.end().catch(() => undefined);
      c = null;
    }
    if (perInsert && c) {
      await c.end().catch(() => undefined);
      c = null;
    }
    await sleep(5);
  }
  await c?.end().catch(() => undefined);
}

beforeAll(async () => {
  serverPort = await freePort();
  dir = stackDir({ 'symphony.yaml': stackText(serverPort, '100') });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const store = new StateStore(state);
  password = new SecretVault(store).get('default', 'db.password');
  poolerPort = store.service('default', 'db')!.ports.pooler;
  store.close();
  expect(poolerPort).toBeGreaterThan(0);
  expect(poolerPort).not.toBe(serverPort);
  const init = await pgbench(serverPort, ['-i', '-s', '2', '-q']);
  expect(init.code, init.stderr).toBe(0);
  const c = new pg.Client(conn(serverPort));
  await c.connect();
  await c.query('CREATE TABLE acks (id bigserial PRIMARY KEY, writer int NOT NULL, n int NOT NULL)');
  await c.end();
}, 120_000);

afterAll(async () => {
  if (state) await cleanup(state);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postgres restart-only settings change under write load, through the pooler', () => {
  it('restarts the server while the pooler holds its clients: no failed transaction, every acknowledged row kept', async () => {
    const store = new StateStore(state);
    const before = store.service('default', 'db')!;
    const volume = store.volumes('default').find((v) => v.name === 'db-data')!.path;
    store.close();
    const inode = statSync(join(volume, 'data')).ino;
    const accounts = await scalar<number>('SELECT count(*)::int AS v FROM pgbench_accounts');
    const startedAt = await scalar<string>('SELECT pg_postmaster_start_time()::text AS v');
    // The pooler forwards to this very server.
    expect(await scalar<string>('SELECT pg_postmaster_start_time()::text AS v', poolerPort)).toBe(startedAt);

    const writes: Writes = { acked: [], ackedAt: [], failed: [], longestMs: 0 };
    let writing = true;
    const writers = [0, 1, 2, 3].map((i) => writer(i, false, () => !writing, writes));
    writers.push(writer(4, true, () => !writing, writes));
    const bench = pgbench(poolerPort, ['-c', '4', '-j', '2', '-T', '16', '--max-tries=1', '--failures-detailed']);
    await sleep(2000);

    writeFileSync(join(dir, 'symphony.yaml'), stackText(serverPort, '110'));
    const applied = await symphony(['apply', '--yes', '--json'], { cwd: dir });
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const steps = json<{ steps: StepRecord[] }>(applied).steps;
    const replace = steps.find((s) => s.name === 'db:replace-in-place')!;
    expect(replace.status).toBe('done');
    const detail = replace.detail as { restarted: string[]; handedOver: string[]; held?: boolean; detail: string[] };

    await sleep(2000);
    writing = false;
    await Promise.all(writers);
    const b = await bench;

    const s2 = new StateStore(state);
    const now = s2.service('default', 'db')!;
    s2.close();
    const inTable = (await (async () => {
      const c = new pg.Client(conn(serverPort));
      await c.connect();
      try {
        return (await c.query<{ id: string }>('SELECT id FROM acks ORDER BY id')).rows.map((r) => Number(r.id));
      } finally {
        await c.end();
      }
    })());
    console.log(`postgres restart behind the pooler: ${JSON.stringify({
      window: `${replace.startedAt} .. ${replace.endedAt}`, held: detail.detail, longestHeldInsertMs: writes.longestMs,
      inserts: writes.acked.length, pgbench: { processed: benchNum(b, /number of transactions actually processed: (\d+)/), failed: benchNum(b, /number of failed transactions: (\d+)/) },
    })}`);

    // It was a restart (a new server process with the new setting, same data directory), held by the pooler.
    expect(now.currentRelease).not.toBe(before.currentRelease);
    expect(detail.held).toBe(true);
    expect(detail.restarted).toEqual([`${now.currentRelease}-0`]);
    expect(detail.handedOver).toEqual([`${now.currentRelease}-pooler`]);
    expect(await scalar<string>("SELECT current_setting('max_connections') AS v")).toBe('110');
    expect(await scalar<string>('SELECT pg_postmaster_start_time()::text AS v')).not.toBe(startedAt);
    expect(statSync(join(volume, 'data')).ino).toBe(inode);
    expect(readFileSync(join(volume, 'data', 'PG_VERSION'), 'utf8').trim()).toBe('15');
    expect(await scalar<number>('SELECT count(*)::int AS v FROM pgbench_accounts')).toBe(accounts);

    // No transaction failed, and the load ran across the restart.
    expect(writes.failed).toEqual([]);
    expect(b.code, b.stderr).toBe(0);
    expect(benchNum(b, /number of failed transactions: (\d+)/)).toBe(0);
    expect(benchNum(b, /number of transactions actually processed: (\d+)/)).toBeGreaterThan(100);
    // The writers ran across the restart: acknowledged inserts before the step and after it.
    expect(writes.ackedAt.filter((t) => t < Date.parse(replace.startedAt!)).length).toBeGreaterThan(10);
    expect(writes.ackedAt.filter((t) => t > Date.parse(replace.endedAt!)).length).toBeGreaterThan(10);
    // Rows acknowledged = rows in the table, by id.
    expect(writes.acked.length).toBeGreaterThan(200);
    expect(inTable).toEqual([...writes.acked].sort((x, y) => x - y));
  }, 120_000);
});
