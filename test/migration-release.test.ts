import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { Plan } from '../src/plan/types.js';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import { pidAlive } from '../src/util/pid.js';
import { freePort } from '../src/util/ports.js';
import { ROOT, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A release that needs a schema change, under HTTP load with writes: app v1
// -> v2 where v2 renames a column and adds a NOT NULL column. Old and new
// serve side by side; no request fails; every row is there afterwards.
const APP = join(ROOT, 'test/fixtures/migration-app/server.mjs');
let dir: string;
let state: string;
let port: number;

const app = (version: string): string => `process.env.APP_VERSION = ${JSON.stringify(version)};\nawait import(${JSON.stringify(APP)});\n`;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({
    'symphony.yaml': `name: items
services:
  db:
    postgres: { version: "15" }
    volume: db-data
    migrations: ./migrations
  api:
    run: node server.mjs
    dir: ./api
    replicas: 2
    env: { DATABASE_URL: "\${db.url}" }
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, grace: 3s }
routes:
  - { listen: ${port}, to: api }
`,
    'migrations/001_items.yaml': `operations:
  - create_table:
      name: items
      columns:
        - { name: id, type: bigserial, pk: true }
        - { name: name, type: text }
`,
    'api/server.mjs': app('v1'),
  });
  state = join(dir, '.symphony');
});

afterAll(async () => {
  await cleanup(state);
});

interface Written {
  id: number;
  name: string;
  version: string;
}

/** Rows of the physical table, read straight from the database (not through the app). */
async function rows<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const store = new StateStore(state);
  const port = store.service('default', 'db')!.ports.port;
  const password = new SecretVault(store).get('default', 'db.password');
  store.close();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'items', database: 'items', password });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Schema-version login roles on the server (the pooler does not pass `options`: a version rides in its role). */
async function versionRoles(): Promise<Array<{ role: string; note: string }>> {
  return rows(`SELECT rolname AS role, shobj_description(oid, 'pg_authid') AS note FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE 'symphony schema version %' ORDER BY 1`);
}

/** Every acknowledged write is a row with its name as title, and the priority its version gives (v1: the migration's up "1"; v2: 2). */
async function expectWritten(written: Written[]): Promise<void> {
  const byId = new Map((await rows<{ id: string; title: string; priority: number }>('SELECT id, title, priority FROM public.items')).map((r) => [Number(r.id), r]));
  const missing = written.filter((w) => byId.get(w.id)?.title !== w.name || byId.get(w.id)?.priority !== (w.version === 'v1' ? 1 : 2));
  expect(missing.map((w) => ({ ...w, row: byId.get(w.id) ?? null }))).toEqual([]);
}

/** Writers and readers through the route until stopped; every failure is kept. */
function load(): { stop: () => Promise<{ ok: number; failures: string[]; ids: Written[] }> } {
  let running = true;
  const failures: string[] = [];
  const ids: Written[] = [];
  let ok = 0;
  const loop = async (write: boolean): Promise<void> => {
    while (running) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/${write ? 'items' : ''}`, { method: write ? 'POST' : 'GET' });
        const body = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${body}`);
        else {
          ok++;
          if (write) ids.push(JSON.parse(body) as Written);
        }
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const loops = [loop(true), loop(true), loop(false)];
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failures, ids };
    },
  };
}

describe('a release that renames a column and adds a NOT NULL column', () => {
  it('serves v1 bound to the first schema version', async () => {
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(body).toMatchObject({ version: 'v1', searchPath: 'public_001_items' });
    // The app reaches the database through the pooler, as the version's role.
    const store = new StateStore(state);
    const db = store.service('default', 'db')!;
    const api = store.release(store.service('default', 'api')!.currentRelease!)!.config as { instances: Array<{ env: Record<string, string> }> };
    store.close();
    expect(api.instances[0].env.DATABASE_URL).toBe(`postgres://items__public_001_items:\${secrets.db.password}@127.0.0.1:${db.ports.pooler}/items`);
    expect(await versionRoles()).toEqual([{ role: 'items__public_001_items', note: 'symphony schema version public_001_items' }]);
  });

  it('deploys v2 with expand/contract under write load: 0 failed requests, all rows intact', async () => {
    writeFileSync(
      join(dir, 'migrations/002_title_priority.yaml'),
      `operations:
  - rename_column: { table: items, column: name, name: title }
  - add_column: { table: items, column: { name: priority, type: integer }, up: "1" }
`,
    );
    writeFileSync(join(dir, 'api/server.mjs'), app('v2'));
    const plan = json<Plan>(await symphony(['plan', '--json'], { cwd: dir }));
    expect(plan.steps.map((s) => s.name)).toEqual([
      'db:migrate-start',
      'api:release', 'api:start', 'api:health', 'api:switch', 'api:drain', 'api:stop-old',
      'db:migrate-complete',
    ]);
    const v1 = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir })).services.find((x) => x.name === 'api')!;
    const traffic = load();
    await new Promise((r) => setTimeout(r, 1000));
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    await new Promise((r) => setTimeout(r, 1000));
    const { ok, failures, ids } = await traffic.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(body).toMatchObject({ version: 'v2', searchPath: 'public_002_title_priority' });
    // Every acknowledged write is there by id, with its title (renamed from name) and its priority:
    // v1's rows (before and during the migration) got the up expression's 1, v2's rows their own 2.
    expect(new Set(ids.map((w) => w.version))).toEqual(new Set(['v1', 'v2']));
    await expectWritten(ids);
    expect(await rows(`SELECT id FROM public.items WHERE title IS NULL OR priority IS NULL OR priority <> CASE WHEN title LIKE 'v1-%' THEN 1 ELSE 2 END`)).toEqual([]);
    // Its schema version is gone, so the old release cannot stay warm: it is retired and its processes stopped.
    const api = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir })).services.find((x) => x.name === 'api')!;
    expect(api.releases.map((x) => [x.id, x.status])).toEqual([[api.release, 'live']]);
    expect(api.instances.filter((i) => i.release === v1.release)).toEqual([]);
    expect(v1.instances.map((i) => i.pid).filter((p) => p !== null && pidAlive(p))).toEqual([]);
    const history = json<{ services: Array<{ name: string; releases: Array<{ id: string; status: string }> }> }>(await symphony(['history', 'api', '--json'], { cwd: dir }));
    expect(history.services.find((x) => x.name === 'api')!.releases.find((x) => x.id === v1.release)?.status).toBe('retired');
    const status = json<{ inFlight: string | null; migrations: Array<{ name: string; status: string }> }>(await symphony(['migrate', 'status', '--json'], { cwd: dir }));
    expect(status.inFlight).toBeNull();
    expect(status.migrations.map((v) => [v.name, v.status])).toEqual([
      ['001_items', 'complete'],
      ['002_title_priority', 'complete'],
    ]);
    // The completed version's role stays, the previous one's is dropped with its schema.
    expect((await versionRoles()).map((x) => x.role)).toEqual(['items__public_002_title_priority']);
  });

  it('rolls the migration back when the new release fails, keeping what was written', async () => {
    writeFileSync(join(dir, 'migrations/003_notes.yaml'), `operations:\n  - add_column: { table: items, column: { name: notes, type: text, nullable: true }, up: "'note-' || id" }\n`);
    writeFileSync(join(dir, 'api/server.mjs'), `process.exit(3);\n`);
    const traffic = load();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const { failures, ids } = await traffic.stop();
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/undone/);
    expect(failures).toEqual([]);
    expect(ids.length).toBeGreaterThan(0);
    const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(body).toMatchObject({ version: 'v2', searchPath: 'public_002_title_priority' });
    const status = json<{ inFlight: string | null; migrations: Array<{ name: string; status: string; movedAside: Array<{ kind: string; table: string; from: string; to: string }> }> }>(await symphony(['migrate', 'status', '--json'], { cwd: dir }));
    expect(status.inFlight).toBeNull();
    const notes = status.migrations.find((m) => m.name === '003_notes');
    expect(notes?.status).toBe('rolled-back');
    expect(notes?.movedAside).toEqual([{ kind: 'column', table: 'items', from: 'notes', to: '_sym_rolled_back_003_notes_notes' }]);
    // What was written while 003 was in flight is there, and the rolled-back column is kept aside
    // with its values: the backfill's for older rows, the trigger's for the rows written meanwhile.
    await expectWritten(ids);
    const aside = await rows<{ id: string; notes: string | null }>('SELECT id, _sym_rolled_back_003_notes_notes AS notes FROM public.items ORDER BY id');
    // Rows written after the rollback (before the load stopped) have no value there: every row up
    // to the last one the trigger filled has its value, every later one none.
    const filled = aside.filter((x) => x.notes !== null);
    expect(filled.length).toBeGreaterThan(0);
    const last = Number(filled.at(-1)!.id);
    expect(filled.filter((x) => x.notes !== `note-${x.id}`)).toEqual([]);
    expect(aside.filter((x) => Number(x.id) <= last && x.notes === null)).toEqual([]);
    const before = Math.min(...ids.map((w) => w.id));
    expect(filled.some((x) => Number(x.id) < before)).toBe(true);
    expect(ids.filter((w) => w.id <= last).length).toBeGreaterThan(0);
    // The rolled-back version's role was made for the attempt and went with it.
    expect((await versionRoles()).map((x) => x.role)).toEqual(['items__public_002_title_priority']);
    const store = new StateStore(state);
    const roleEvents = store.events('default', 500).filter((e) => e.kind === 'schema-roles').map((e) => e.message);
    store.close();
    expect(roleEvents).toContain('db: login roles created items__public_003_notes, dropped none');
    expect(roleEvents).toContain('db: login roles created none, dropped items__public_003_notes');
  });
});
