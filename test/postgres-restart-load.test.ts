import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// A postgres service applied by the CLI, changed in place (a setting) while
// pgbench runs against it: once with a new connection per transaction (-C),
// once with persistent connections; and a prober opening a new connection
// every few ms. What fails is reported; after the new instance is healthy,
// every new connection must succeed.

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';
const stackText = (port: number, maxConnections: string): string => `name: restart-load
services:
  db:
    postgres: { version: "15", port: ${port}, settings: { max_connections: ${maxConnections} } }
    volume: db-data
`;

interface Attempt { start: number; end: number; ok: boolean; error?: string }
interface Bench { processed: number; failed: number; aborted: string[]; code: number | null }

let dir: string;
let state: string;
let port: number;
let password = '';

const conn = (): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'restart_load', database: 'restart_load', password, connectionTimeoutMillis: 2000 });

async function scalar<T>(sql: string): Promise<T> {
  const c = new pg.Client(conn());
  await c.connect();
  try {
    return (await c.query<{ v: T }>(sql)).rows[0].v;
  } finally {
    await c.end();
  }
}

function pgbench(args: string[]): Promise<RunResult> {
  return run(PGBENCH, ['-h', '127.0.0.1', '-p', String(port), '-U', 'restart_load', ...args, 'restart_load'], { env: { ...process.env, PGPASSWORD: password }, timeoutMs: 90_000 });
}

function parseBench(r: RunResult): Bench {
  const num = (re: RegExp): number => Number(re.exec(r.stdout)?.[1] ?? NaN);
  return {
    processed: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/),
    aborted: r.stderr.split('\n').filter((l) => /aborted|error/i.test(l)).slice(0, 6),
    code: r.code,
  };
}

/** Open a new connection, run one read, close; again and again until `stop` says so. */
async function probe(stop: () => boolean, out: Attempt[]): Promise<void> {
  while (!stop()) {
    const start = Date.now();
    const c = new pg.Client(conn());
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT abalance FROM pgbench_accounts WHERE aid = 1');
      out.push({ start, end: Date.now(), ok: true });
    } catch (err) {
      out.push({ start, end: Date.now(), ok: false, error: (err as Error).message });
    } finally {
      await c.end().catch(() => undefined);
    }
    await sleep(20);
  }
}

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stackText(port, '100') });
  state = join(dir, '.symphony');
  chmodSync(dir, 0o755);
  mkdirSync(join(state, 'volumes', 'default'), { recursive: true, mode: 0o711 });
  for (const d of [state, join(state, 'volumes'), join(state, 'volumes', 'default')]) chmodSync(d, 0o711);
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const store = new StateStore(state);
  password = new SecretVault(store).get('default', 'db.password');
  store.close();
  const init = await pgbench(['-i', '-s', '2', '-q']);
  expect(init.code, init.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (state) await cleanup(state);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('postgres settings change under pgbench load', () => {
  it('replaces in place on the same volume, loses no row, and refuses no connection once healthy', async () => {
    const store = new StateStore(state);
    const before = store.service('default', 'db')!;
    const volume = store.volumes('default').find((v) => v.name === 'db-data')!.path;
    store.close();
    const inode = statSync(join(volume, 'data')).ino;
    const rows = await scalar<number>('SELECT count(*)::int AS v FROM pgbench_accounts');
    const startedAt = await scalar<string>('SELECT pg_postmaster_start_time()::text AS v');
    expect(rows).toBe(200_000);

    const attempts: Attempt[] = [];
    let probing = true;
    const prober = probe(() => !probing, attempts);
    const perTx = pgbench(['-C', '-c', '2', '-j', '1', '-T', '20', '--max-tries=3', '--failures-detailed', '-S']);
    const persistent = pgbench(['-c', '4', '-j', '2', '-T', '20', '--max-tries=3', '--failures-detailed']);
    await sleep(2000);

    writeFileSync(join(dir, 'symphony.yaml'), stackText(port, '110'));
    const applied = await symphony(['apply', '--yes', '--json'], { cwd: dir });
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    const steps = json<{ steps: StepRecord[] }>(applied).steps;
    const replace = steps.find((s) => s.name === 'db:replace-in-place')!;
    const health = steps.find((s) => s.name === 'db:health')!;
    expect(replace.status).toBe('done');
    const restartFrom = Date.parse(replace.startedAt!);
    const healthyAt = Date.parse(health.endedAt!);

    await sleep(2000);
    probing = false;
    await prober;
    const [c, p] = (await Promise.all([perTx, persistent])).map(parseBench);
    const after = await pgbench(['-C', '-c', '2', '-j', '1', '-t', '100', '-S']);

    const failedAttempts = attempts.filter((a) => !a.ok);
    const afterHealthy = attempts.filter((a) => a.start > healthyAt);
    const report = {
      restartWindowMs: healthyAt - restartFrom,
      prober: { attempts: attempts.length, failed: failedAttempts.length, afterHealthy: afterHealthy.length, errors: [...new Set(failedAttempts.map((a) => a.error))] },
      pgbenchNewConnectionPerTx: c,
      pgbenchPersistent: p,
      pgbenchAfterHealthy: parseBench(after),
    };
    console.log(`postgres in-place replace under load:\n${JSON.stringify(report, null, 2)}`);

    // The replace happened: new release, new server process with the new setting, same data directory, every row kept.
    const s2 = new StateStore(state);
    const now = s2.service('default', 'db')!;
    s2.close();
    expect(now.currentRelease).not.toBe(before.currentRelease);
    expect(await scalar<string>("SELECT current_setting('max_connections') AS v")).toBe('110');
    expect(await scalar<string>('SELECT pg_postmaster_start_time()::text AS v')).not.toBe(startedAt);
    expect(statSync(join(volume, 'data')).ino).toBe(inode);
    expect(readFileSync(join(volume, 'data', 'PG_VERSION'), 'utf8').trim()).toBe('15');
    expect(await scalar<number>('SELECT count(*)::int AS v FROM pgbench_accounts')).toBe(rows);

    // What failed: only attempts that started before the new instance was healthy.
    for (const a of failedAttempts) expect(a.start, a.error).toBeLessThanOrEqual(healthyAt);
    expect(afterHealthy.length).toBeGreaterThan(2);
    expect(afterHealthy.every((a) => a.ok)).toBe(true);
    expect(attempts.filter((a) => a.end < restartFrom).every((a) => a.ok)).toBe(true);
    expect(after.code, after.stderr).toBe(0);
    expect(parseBench(after)).toMatchObject({ processed: 200, failed: 0 });
    // Both load runs did real work before the restart.
    expect(c.processed).toBeGreaterThan(0);
    expect(p.processed).toBeGreaterThan(0);
  }, 90_000);
});
