import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationStatus } from '../src/migrate/engine.js';
import type { MigrateStatusView } from '../src/migrate/cli/render.js';
import { chooseStart, migrationRows } from '../src/migrate/cli/versions.js';
import type { Migration } from '../src/migrate/operations.js';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import { run, type RunResult } from '../src/util/exec.js';
import { freePort } from '../src/util/ports.js';
import { BIN, cleanup, json, stackDir, symphony } from './helpers/cli.js';

const stackText = (port: number, otherPort: number): string => `name: mig-cli
services:
  db:
    postgres: { version: "15", port: ${port}, settings: { fsync: "off" } }
    volume: db-data
    migrations: ./migrations
  other:
    postgres: { version: "15", port: ${otherPort}, settings: { fsync: "off" } }
    volume: other-data
`;
const USERS = `operations:
  - create_table:
      name: users
      columns:
        - { name: id, type: serial, pk: true }
        - { name: name, type: text }
`;
const EMAIL = `operations:
  - add_column: { table: users, column: { name: email, type: text }, up: "name || '@example.com'" }
`;

let dir: string;
let state: string;
let password = '';
const outputs: string[] = [];

/** Every command names the state dir (never the default .symphony next to the stack file). */
async function cli(args: string[]): Promise<RunResult> {
  const r = await symphony([...args, '--state-dir', state], { cwd: dir });
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function query<T extends pg.QueryResultRow>(sql: string, searchPath?: string): Promise<T[]> {
  const store = new StateStore(state);
  const port = store.service('default', 'db')!.ports.port;
  store.close();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'mig_cli', database: 'mig_cli', password, options: searchPath ? `-c search_path=${searchPath}` : undefined });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': stackText(await freePort(), await freePort()), 'migrations/0001_users.yaml': USERS, 'migrations/0002_email.yaml': EMAIL, 'hazard.sql': 'CREATE INDEX users_name_idx ON users (name);\n' });
  state = join(dir, 'st');
  // `apply` runs a stack's migrations itself (bound to releases); these tests drive them by hand,
  // so the database is applied before the stack file names its migrations dir.
  writeFileSync(join(dir, 'symphony.yaml'), stackText(await freePort(), await freePort()).replace('    migrations: ./migrations\n', ''));
  // The first command of all, under a umask that would make every directory private: the product
  // must create the state dir and the volume's parents traversable by the postgres account itself.
  const r = await run('sh', ['-c', `umask 077 && exec "${process.execPath}" "${BIN}" apply --yes --target db --state-dir "${state}"`], { cwd: dir, timeoutMs: 120_000 });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  for (const d of [state, join(state, 'volumes'), join(state, 'volumes', 'default')]) expect(statSync(d).mode & 0o777, d).toBe(0o711);
  expect(existsSync(join(state, 'volumes', 'default', 'db-data', 'data', 'PG_VERSION'))).toBe(true);
  const applied = readFileSync(join(dir, 'symphony.yaml'), 'utf8');
  writeFileSync(join(dir, 'symphony.yaml'), applied.replace('    volume: db-data\n', '    volume: db-data\n    migrations: ./migrations\n'));
  const store = new StateStore(state);
  password = new SecretVault(store).get('default', 'db.password');
  store.close();
}, 120_000);

afterAll(async () => {
  if (state) await cleanup(state);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('symphony migrate against a postgres service applied by the CLI', () => {
  it('status lists both files as pending and names the next command', async () => {
    const r = await cli(['migrate', 'status', '--service', 'db', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const v = json<MigrateStatusView>(r);
    expect(v.target).toMatchObject({ service: 'db', env: 'default', host: '127.0.0.1', user: 'mig_cli', database: 'mig_cli', migrationsDir: join(dir, 'migrations') });
    expect(v.current).toBe('public_baseline');
    expect(v.inFlight).toBeNull();
    expect(v.migrations.map((m) => [m.name, m.status])).toEqual([['0001_users', 'pending'], ['0002_email', 'pending']]);
    expect(v.next).toBe('symphony migrate start 0001_users');
  });

  it('start runs the next pending migration; status then shows it in flight', async () => {
    const r = await cli(['migrate', 'start', '--service', 'db', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ version: '0001_users', schema: 'public_0001_users', previousSchema: 'public_baseline', resumed: false, target: { service: 'db' } });
    const s = await cli(['migrate', 'status', '-s', 'db']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/current schema: public_baseline {3}in flight: 0001_users/);
    expect(s.stdout).toMatch(/0001_users\s+in-flight\s+public_0001_users/);
    expect(s.stdout).toMatch(/next: 0001_users is in flight: symphony migrate complete/);
  });

  it('a second migration while one is in flight fails and says how to finish the first', async () => {
    const human = await cli(['migrate', 'start', '0002_email', '-s', 'db']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('error: cannot start migration 0002_email: migration 0001_users is in flight on this database');
    expect(human.stderr).toContain('next: finish it first: symphony migrate complete');
    const asJson = await cli(['migrate', 'start', '0002_email', '-s', 'db', '--json']);
    expect(asJson.code).toBe(1);
    expect(json(asJson)).toMatchObject({ code: 'migration', error: expect.stringContaining('0001_users is in flight') });
    expect((await query<{ n: number }>(`SELECT count(*)::int AS n FROM symphony_migrations.versions WHERE name = '0002_email'`))[0].n).toBe(0);
  });

  it('complete contracts; rows written through the new version are there', async () => {
    await query(`INSERT INTO users (name) VALUES ('ada'), ('bob'), ('cy')`, 'public_0001_users');
    const r = await cli(['migrate', 'complete', '-s', 'db', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ version: '0001_users', schema: 'public_0001_users', droppedSchema: 'public_baseline' });
    const schemas = await query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_%' ORDER BY 1`);
    expect(schemas.map((s) => s.nspname)).toEqual(['public_0001_users']);
  });

  it('start without a version picks the second file and backfills its column', async () => {
    const r = await cli(['migrate', 'start', '-s', 'db', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toMatchObject({ version: '0002_email', schema: 'public_0002_email', previousSchema: 'public_0001_users', backfilled: { users: 3 }, resumed: false });
    const rows = await query<{ name: string; email: string }>('SELECT name, email FROM users ORDER BY id', 'public_0002_email');
    expect(rows).toEqual([{ name: 'ada', email: 'ada@example.com' }, { name: 'bob', email: 'bob@example.com' }, { name: 'cy', email: 'cy@example.com' }]);
    // How far the backfill committed, in status (what a resumed start would go on from).
    const maxId = (await query<{ id: number }>('SELECT max(id)::int AS id FROM users', 'public_0002_email'))[0].id;
    const s = await cli(['migrate', 'status', '-s', 'db']);
    expect(s.stdout).toContain(`backfill of users committed up to key ${maxId}`);
    await query(`INSERT INTO users (name, email) VALUES ('dee', 'dee@new.example')`, 'public_0002_email');
  });

  it('rollback undoes start and keeps what the new version wrote, aside', async () => {
    const r = await cli(['migrate', 'rollback', '-s', 'db']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('rolled back migration 0002_email');
    expect(r.stdout).toContain('column users.email kept as users._sym_rolled_back_0002_email_email');
    const kept = await query<{ name: string; e: string }>(`SELECT name, _sym_rolled_back_0002_email_email AS e FROM public.users WHERE name = 'dee'`);
    expect(kept).toEqual([{ name: 'dee', e: 'dee@new.example' }]);
    const v = json<MigrateStatusView>(await cli(['migrate', 'status', '-s', 'db', '--json']));
    expect(v.migrations.map((m) => [m.name, m.status])).toEqual([['0001_users', 'complete'], ['0002_email', 'rolled-back']]);
    expect(v.migrations[1].movedAside).toEqual([{ kind: 'column', table: 'users', from: 'email', to: '_sym_rolled_back_0002_email_email' }]);
    expect(v.current).toBe('public_0001_users');
    expect(v.next).toBe('symphony migrate start 0002_email');
  });

  it('complete and rollback with nothing in flight say so, and change nothing', async () => {
    const before = json<MigrateStatusView>(await cli(['migrate', 'status', '-s', 'db', '--json']));
    const columns = async (): Promise<string[]> => (await query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY 1`)).map((x) => x.c);
    const cols = await columns();
    const r = await cli(['migrate', 'complete', '-s', 'db', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toEqual({ code: 'migration', error: 'nothing to complete: no migration is in flight on this database', hint: 'see symphony migrate status' });
    const back = await cli(['migrate', 'rollback', '-s', 'db', '--json']);
    expect(back.code).toBe(1);
    expect(json(back)).toEqual({ code: 'migration', error: 'nothing to roll back: no migration is in flight on this database', hint: 'see symphony migrate status' });
    const human = await cli(['migrate', 'rollback', '-s', 'db']);
    expect(human.code).toBe(1);
    expect(human.stderr.split('\n').slice(0, 2)).toEqual(['error: nothing to roll back: no migration is in flight on this database', 'next: see symphony migrate status']);
    expect(json<MigrateStatusView>(await cli(['migrate', 'status', '-s', 'db', '--json']))).toEqual(before);
    expect(await columns()).toEqual(cols);
  });

  it('without --service refuses to guess between two postgres services; unknown, stopped and directory-less services are named', async () => {
    const r = await cli(['migrate', 'status', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ code: 'migrate_target', error: expect.stringContaining('2 postgres services (db, other)'), hint: 'say which one: symphony migrate <command> --service db' });
    const unknown = await cli(['migrate', 'status', '-s', 'nope', '--json']);
    expect(json(unknown)).toMatchObject({ code: 'migrate_target', error: expect.stringContaining('no service named nope') });
    const notRunning = await cli(['migrate', 'status', '-s', 'other', '--json']);
    expect(json(notRunning)).toMatchObject({ code: 'migrate_target', error: expect.stringContaining('postgres service other is not running in environment default'), hint: 'start it first: symphony apply' });
    const noDir = await cli(['migrate', 'lint', '-s', 'other']);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain('service other has no migrations directory');
  });

  it('lint checks the migrations directory by default and flags a non-concurrent index', async () => {
    const clean = await cli(['migrate', 'lint', '-s', 'db', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(json(clean)).toEqual({ files: [join(dir, 'migrations')], errors: 0, warnings: 0, findings: [] });
    const bad = await cli(['migrate', 'lint', 'hazard.sql', '--json']);
    expect(bad.code).toBe(1);
    const out = json<{ errors: number; findings: Array<{ rule: string; line: number }> }>(bad);
    expect(out.errors).toBeGreaterThanOrEqual(1);
    expect(out.findings).toContainEqual(expect.objectContaining({ rule: 'require-concurrent-index', line: 1 }));
    const human = await cli(['migrate', 'lint', 'hazard.sql']);
    expect(human.stdout).toContain('hazard.sql:1:1: error require-concurrent-index');
  });

  it('wrote nothing next to the stack file: every migrate verb used --state-dir', () => {
    expect(existsSync(join(dir, '.symphony'))).toBe(false);
  });

  it('never printed the database password', () => {
    expect(password.length).toBeGreaterThan(8);
    for (const text of outputs) expect(text).not.toContain(password);
  });
});

describe('choosing the migration to start (pure)', () => {
  const files: Migration[] = ['01_a', '02_b', '03_c'].map((name) => ({ name, file: `/m/${name}.yaml`, operations: [] }));
  const rec = (name: string, status: 'complete' | 'in-flight' | 'rolled-back') => ({
    name, file: `/m/${name}.yaml`, schema: `public_${name}`, previous: 'p', status, startedAt: 't', completedAt: null, operations: [], layoutBefore: { schema: 'public', tables: [] }, movedAside: [], error: null, backfillProgress: {},
  });
  const st = (...versions: ReturnType<typeof rec>[]): MigrationStatus => ({ current: 'public_baseline', inFlight: versions.find((v) => v.status === 'in-flight') ?? null, versions });

  it('picks the first incomplete file, or resumes the in-flight one', () => {
    expect(chooseStart(files, st(), '/m').name).toBe('01_a');
    expect(chooseStart(files, st(rec('01_a', 'complete'), rec('02_b', 'rolled-back')), '/m').name).toBe('02_b');
    expect(chooseStart(files, st(rec('01_a', 'complete'), rec('02_b', 'in-flight')), '/m').name).toBe('02_b');
  });

  it('refuses out-of-order, complete, unknown and everything-done', () => {
    expect(() => chooseStart(files, st(), '/m', '02_b')).toThrow('cannot start 02_b: the earlier migration 01_a is not complete');
    expect(() => chooseStart(files, st(rec('01_a', 'complete')), '/m', '01_a')).toThrow('migration 01_a is already complete');
    expect(() => chooseStart(files, st(), '/m', '09_z')).toThrow('no migration file for version 09_z in /m (versions there: 01_a, 02_b, 03_c)');
    expect(() => chooseStart(files, st(...files.map((f) => rec(f.name, 'complete'))), '/m')).toThrow('nothing to start: all 3 migrations in /m are complete');
  });

  it('lists files in order, then versions whose files are gone', () => {
    const rows = migrationRows(files.slice(1), st(rec('01_a', 'complete'), rec('02_b', 'in-flight')));
    expect(rows.map((r) => [r.name, r.status, r.file])).toEqual([['02_b', 'in-flight', '/m/02_b.yaml'], ['03_c', 'pending', '/m/03_c.yaml'], ['01_a', 'complete', null]]);
  });
});
