import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RehearsalReport } from '../src/rehearse/index.js';
import { SecretVault } from '../src/secrets/vault.js';
import { StateStore } from '../src/state/store.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { expectRehearsalGone, targetPids as targetPidsOf } from './helpers/rehearsal.js';

// A real stack (postgres with rows + a routed app with a volume) in env
// production with require_rehearsal: apply is refused, a rehearsal of the
// change passes on a copy that must vanish while the target keeps its
// processes and data, then apply runs the rehearsed plan.
let dir: string;
let state: string;
let port: number;
// The database's port is chosen here, not by the planner (21000 up): test files run in parallel, and two
// state dirs planning at the same moment can both be handed 21000 before either binds it.
let dbPort: number;

const stack = (o: { version: string; run?: string; require?: boolean }): string => `name: rh
services:
  db:
    postgres: { version: "15", port: ${dbPort} }
    volume: rh-db
  api:
    run: ${o.run ?? 'node server.mjs'}
    dir: ./api
    volume: api-data
    env: { APP_VERSION: "${o.version}", DATABASE_URL: "\${db.url}", DATA_DIR: "${join('STATE', 'volumes', 'production', 'api-data')}" }
    health: { http: /healthz, start_timeout: 4s }
    deploy: { drain: 0s, grace: 1s, warm: 0s }
routes:
  - { listen: ${port}, to: api }
smoke:
  - { name: new version answers, http: "\${api.url}/", contains: "${o.version}" }
  - { name: rows copied, exec: "psql \\"\${db.url}\\" -tAc 'SELECT count(*) FROM items'", contains: "3" }
  - { name: copy is writable, exec: "psql \\"\${db.url}\\" -tAc \\"INSERT INTO items VALUES ('copy-only')\\"" }
  - { name: app volume is the copy's, http: "\${api.url}/write", contains: written }
  - { name: pairs are whole, exec: "psql \\"\${db.url}\\" -tAc 'SELECT count(*) > 0 AND count(*) = (SELECT count(*) FROM pairs_b) FROM pairs_a'", contains: t }
environments:
  production: { require_rehearsal: ${o.require === true} }
`;
const write = (o: Parameters<typeof stack>[0]): void => writeFileSync(join(dir, 'symphony.yaml'), stack(o).replace('STATE', state));

const dbQuery = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
  const store = new StateStore(state);
  const password = new SecretVault(store).get('production', 'db.password');
  const db = store.services('production').find((s) => s.name === 'db')!;
  store.close();
  const c = new pg.Client({ host: '127.0.0.1', port: db.ports.port, user: 'rh', database: 'rh', password });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
};

/** Commit (n into pairs_a, n into pairs_b) in one transaction, again and again, until stopped; returns the commits. */
const pairWriter = async (): Promise<{ stop: () => Promise<number> }> => {
  const store = new StateStore(state);
  const password = new SecretVault(store).get('production', 'db.password');
  const db = store.services('production').find((s) => s.name === 'db')!;
  store.close();
  const c = new pg.Client({ host: '127.0.0.1', port: db.ports.port, user: 'rh', database: 'rh', password });
  await c.connect();
  let n = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await c.query(`BEGIN; INSERT INTO pairs_a VALUES (${n}); INSERT INTO pairs_b VALUES (${n}); COMMIT`);
      n++;
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await c.end();
      return n;
    },
  };
};

const targetPids = (): Promise<string[]> => targetPidsOf(state, 'production');

let pidsBefore: string[];

beforeAll(async () => {
  port = await freePort();
  dbPort = await freePort();
  while (dbPort === port) dbPort = await freePort();
  dir = stackDir({ ...appFiles('api') });
  chmodSync(dir, 0o711);
  state = join(dir, '.symphony');
  write({ version: 'v1' });
  const r = await symphony(['apply', '--env', 'production', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  await dbQuery(`CREATE TABLE items (name text); INSERT INTO items VALUES ('a'), ('b'), ('c'); CREATE TABLE pairs_a (n int); CREATE TABLE pairs_b (n int)`);
  writeFileSync(join(state, 'volumes', 'production', 'api-data', 'seed.txt'), 'target\n');
  pidsBefore = await targetPids();
}, 90_000);

afterAll(async () => {
  await cleanup(state);
  rmSync(dir, { recursive: true, force: true });
});

describe('symphony rehearse', () => {
  it('apply refuses a plan of a require_rehearsal environment that has no passed rehearsal, and says how to run one', async () => {
    write({ version: 'v2', require: true });
    const r = await symphony(['apply', '--env', 'production', '--yes'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/environment production requires a passed rehearsal of this plan \(digest [0-9a-f]{16}\) before apply; no rehearsal was recorded/);
    expect(r.stderr).toContain('next: rehearse it first: symphony rehearse --env production');
    expect(await targetPids()).toEqual(pidsBefore);
  });

  it('a good change passes on a copy holding the target rows, and the target is untouched', async () => {
    write({ version: 'v2', require: true });
    // A writer commits a row to pairs_a and pairs_b in one transaction all through the rehearsal:
    // a point-in-time copy holds whole pairs only.
    const writer = await pairWriter();
    const r = await symphony(['rehearse', '--env', 'production', '--json'], { cwd: dir });
    const commits = await writer.stop();
    expect(commits).toBeGreaterThan(20);
    const report = json<RehearsalReport>(r);
    expect(report.error).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.volumes.map((v) => [v.service, v.method, v.consistent])).toEqual([['db', 'pg_basebackup', true], ['api', 'file-copy', true]]);
    expect(report.volumes[1].detail).toBe('1 file, none changed during the copy');
    expect(report.smoke.map((s) => [s.name, s.passed])).toEqual([
      ['new version answers', true], ['rows copied', true], ['copy is writable', true], ["app volume is the copy's", true], ['pairs are whole', true],
    ]);
    expect(Object.keys(report.ports).map(Number)).toContain(port);
    expect(report.ports[port]).not.toBe(port);
    expect(report.ports[dbPort]).toBeGreaterThan(0);
    expect(report.ports[dbPort]).not.toBe(dbPort);
    await expectRehearsalGone(report);
    expect(await targetPids()).toEqual(pidsBefore);
    expect((await dbQuery<{ name: string }>('SELECT name FROM items ORDER BY name')).map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(existsSync(join(state, 'volumes', 'production', 'api-data', 'writes.log'))).toBe(false);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v1 /);
  });

  it('apply then runs the rehearsed plan', async () => {
    const r = await symphony(['apply', '--env', 'production', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v2 /);
  });
});
