import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/plan/types.js';
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

/** Writers and readers through the route until stopped; every failure is kept. */
function load(): { stop: () => Promise<{ ok: number; failures: string[]; ids: number[] }> } {
  let running = true;
  const failures: string[] = [];
  const ids: number[] = [];
  let ok = 0;
  const loop = async (write: boolean): Promise<void> => {
    while (running) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/${write ? 'items' : ''}`, { method: write ? 'POST' : 'GET' });
        const body = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${body}`);
        else {
          ok++;
          if (write) ids.push(Number(body));
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
    // Every acknowledged write is there, and every row has a title (renamed from name) and a priority.
    expect(body.n).toBeGreaterThanOrEqual(ids.length);
    expect(body.named).toBe(body.n);
    const status = json<{ inFlight: string | null; migrations: Array<{ name: string; status: string }> }>(await symphony(['migrate', 'status', '--json'], { cwd: dir }));
    expect(status.inFlight).toBeNull();
    expect(status.migrations.map((v) => [v.name, v.status])).toEqual([
      ['001_items', 'complete'],
      ['002_title_priority', 'complete'],
    ]);
  });

  it('rolls the migration back when the new release fails, keeping what was written', async () => {
    writeFileSync(join(dir, 'migrations/003_notes.yaml'), `operations:\n  - add_column: { table: items, column: { name: notes, type: text, nullable: true } }\n`);
    writeFileSync(join(dir, 'api/server.mjs'), `process.exit(3);\n`);
    const traffic = load();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const { failures } = await traffic.stop();
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/undone/);
    expect(failures).toEqual([]);
    const body = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(body).toMatchObject({ version: 'v2', searchPath: 'public_002_title_priority' });
    const status = json<{ inFlight: string | null; migrations: Array<{ name: string; status: string }> }>(await symphony(['migrate', 'status', '--json'], { cwd: dir }));
    expect(status.inFlight).toBeNull();
    expect(status.migrations.find((m) => m.name === '003_notes')?.status).toBe('rolled-back');
  });
});
