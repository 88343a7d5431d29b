import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { RehearsalReport } from '../src/rehearse/index.js';
import { StateStore } from '../src/state/store.js';
import { freePort } from '../src/util/ports.js';
import { sharedRootOf } from '../src/volumes/placement.js';
import { appFiles, cleanup, json, symphony } from './helpers/cli.js';
import { expectRehearsalGone } from './helpers/rehearsal.js';

// A stack in a private (0700) directory, as `mktemp -d` and most home
// directories are: the postgres account cannot traverse it, so the database's
// volume goes under a Symphony-owned root it can reach (here a temp dir given
// as SYMPHONY_SHARED_ROOT; /var/lib/symphony by default), recorded in the
// state, shown by plan and status, copied by rehearsals, removed only with
// destroy --volumes. The user's directory keeps its 0700.
let dir: string;
let state: string;
let shared: string;
let root: string;
let volume: string;
let env: Record<string, string>;
let port: number;

const stack = (port: number, version = 'v1'): string => `name: private
services:
  db:
    postgres: { version: "15", settings: { fsync: "off" } }
    volume: db-data
  web:
    run: node server.mjs
    dir: ./web
    env: { DATABASE_URL: "\${db.url}", APP_VERSION: ${version} }
    deploy: { drain: 500ms, grace: 1s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`;

const cli = (args: string[]) => symphony(args, { cwd: dir, env });

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const url = (await cli(['output', 'db', '--reveal', '--yes'])).stdout.trim();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-private-'));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  shared = mkdtempSync(join(tmpdir(), 'symphony-shared-'));
  chmodSync(shared, 0o711);
  env = { SYMPHONY_SHARED_ROOT: shared };
  port = await freePort();
  writeFileSync(join(dir, 'symphony.yaml'), stack(port));
  mkdirSync(join(dir, 'web'));
  for (const [name, text] of Object.entries(appFiles('web'))) writeFileSync(join(dir, name), text);
  state = join(dir, '.symphony');
  root = sharedRootOf(state, shared);
  volume = join(root, 'volumes/default/db-data');
});

afterAll(async () => {
  await cli(['destroy', '--yes', '--volumes']);
  await cleanup(state);
  rmSync(dir, { recursive: true, force: true });
  rmSync(shared, { recursive: true, force: true });
});

describe('a stack in a 0700 directory', () => {
  it('plans the database volume under the Symphony-owned root and says why', async () => {
    const r = await cli(['plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`volume: db-data at ${volume} (outside the state dir: the postgres account cannot traverse ${dir})`);
    expect(r.stdout).not.toMatch(/\+ web .*\n.*\n\s+volume:/);
  });

  it('applies without touching the permissions of the directory, and records where the volume is', async () => {
    const r = await cli(['apply', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(volume, 'data/PG_VERSION'))).toBe(true);
    expect(readFileSync(join(root, 'STATE_DIR'), 'utf8').trim()).toBe(state);
    const store = new StateStore(state);
    try {
      expect(store.volumes('default')).toMatchObject([{ name: 'db-data', path: volume }]);
    } finally {
      store.close();
    }
    const s = json<EnvStatus>(await cli(['status', '--json']));
    expect(s.services.find((x) => x.name === 'db')!.volumePath).toBe(volume);
    expect((await cli(['status'])).stdout).toContain(`volume at ${volume}`);
    await sql('CREATE TABLE notes (body text NOT NULL)');
    await sql("INSERT INTO notes VALUES ('kept')");
  });

  it('rehearses a change with the volume copied under the copy’s own root, then leaves nothing', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack(port, 'v2'));
    const r = await cli(['rehearse', '--json']);
    const report = json<RehearsalReport>(r);
    expect(report.passed, JSON.stringify(report.error)).toBe(true);
    const copy = report.volumes.find((v) => v.service === 'db')!;
    expect(copy).toMatchObject({ method: 'pg_basebackup', from: volume, to: join(sharedRootOf(report.copyDir, shared), 'volumes/default/db-data') });
    expect(existsSync(sharedRootOf(report.copyDir, shared))).toBe(false);
    await expectRehearsalGone(report);
    expect(await sql<{ body: string }>('SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
  });

  it('keeps the volume through destroy and a new apply; destroy --volumes removes its root', async () => {
    expect((await cli(['destroy', '--yes'])).code).toBe(0);
    expect(existsSync(join(volume, 'data/PG_VERSION'))).toBe(true);
    const again = await cli(['apply', '--yes']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await sql<{ body: string }>('SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
    const gone = await cli(['destroy', '--yes', '--volumes']);
    expect(gone.code, gone.stdout + gone.stderr).toBe(0);
    expect(existsSync(root)).toBe(false);
    expect(existsSync(shared)).toBe(true);
  });
});
