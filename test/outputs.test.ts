import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// Where is my service? A routed app, a real Postgres and a one-member etcd:
// status (text and JSON), the Outputs block of apply and `symphony output`
// say how to reach each, with the database password masked unless revealed.
let dir: string;
let state: string;
let port: number;
let applyOut: string;

const stack = (p: number): string => `name: reach
services:
  db:
    postgres: { version: "15", settings: { fsync: "off" } }
    volume: db-data
  kv:
    etcd: { version: "3.4", members: 1 }
    volume: kv-data
  web:
    run: node server.mjs
    dir: ./web
    uses: [db]
    env: { DATABASE_URL: "\${db.url}" }
    deploy: { drain: 500ms, grace: 1s }
routes:
  - { listen: ${p}, to: web }
`;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(port), ...appFiles('web') });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  applyOut = r.stdout + r.stderr;
  expect(r.code, applyOut).toBe(0);
}, 120_000);

afterAll(async () => {
  await symphony(['destroy', '--yes', '--volumes'], { cwd: dir });
  await cleanup(state);
});

const reveal = async (what: string): Promise<string> => {
  const r = await symphony(['output', what, '--reveal', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
};

describe('outputs: how to reach each service', () => {
  it('status --json names a url or endpoints per service, the password masked', async () => {
    const s = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
    const by = (n: string) => s.services.find((x) => x.name === n)!;
    // Clients reach postgres through its pooler; the server's own port is server_port.
    const dbPort = by('db').ports.pooler;
    expect(dbPort).not.toBe(by('db').ports.port);
    expect(by('db').url).toBe(`postgres://reach:****@127.0.0.1:${dbPort}/reach`);
    expect(by('db').outputs).toMatchObject({ user: 'reach', database: 'reach', password: '****', port: String(dbPort), server_port: String(by('db').ports.port) });
    expect(by('kv').endpoints).toEqual([`http://127.0.0.1:${by('kv').ports['client-0']}`]);
    expect(by('web').url).toBe(`http://127.0.0.1:${port}`);
    const password = await reveal('db.password');
    expect(password).toMatch(/^\S{12,}$/);
    expect(JSON.stringify(s)).not.toContain(password);
  });

  it('status text shows the same, and apply ended with an Outputs block', async () => {
    const r = await symphony(['status'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^db \(postgres\).*\n  url: postgres:\/\/reach:\*\*\*\*@127\.0\.0\.1:\d+\/reach$/m);
    expect(r.stdout).toMatch(/^kv \(etcd\).*\n  endpoints: http:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.stdout).toMatch(/^web \(app\).*\n  url: http:\/\/127\.0\.0\.1:\d+$/m);
    expect(applyOut).toMatch(/Outputs:\n  db +postgres:\/\/reach:\*\*\*\*@127\.0\.0\.1:\d+\/reach\n  kv +http:\/\/127\.0\.0\.1:\d+\n  web +http:\/\/127\.0\.0\.1:\d+\n/);
    const password = await reveal('db.password');
    expect(r.stdout + applyOut).not.toContain(password);
  });

  it('symphony output prints one value a script can use', async () => {
    const masked = await symphony(['output', 'db'], { cwd: dir });
    expect(masked.stdout.trim()).toMatch(/^postgres:\/\/reach:\*\*\*\*@127\.0\.0\.1:\d+\/reach$/);
    const client = new pg.Client({ connectionString: await reveal('db') });
    await client.connect();
    try {
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    const kv = (await symphony(['output', 'kv'], { cwd: dir })).stdout.trim();
    expect(await (await fetch(`${kv}/health`)).json()).toMatchObject({ health: 'true' });
    const web = (await symphony(['output', 'web.url'], { cwd: dir })).stdout.trim();
    expect(await (await fetch(web)).text()).toMatch(/^v1 /);
  });

  it('refuses --reveal on a non-interactive terminal without --yes, and unknown names', async () => {
    const r = await symphony(['output', 'db.password', '--reveal'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('refusing to reveal a secret on a non-interactive terminal');
    expect(r.stderr).toContain('symphony output db.password --reveal --yes');
    const nope = await symphony(['output', 'db.nope'], { cwd: dir });
    expect(nope.code).toBe(1);
    expect(nope.stderr).toContain("service db has no output 'nope'; its outputs: database, host, password, port, server_port, url, user");
    const none = await symphony(['output', 'cache'], { cwd: dir });
    expect(none.stderr).toContain('no service cache in environment default; services: db, kv, web');
  });

  it('status marks the release that takes traffic and the one kept warm', async () => {
    writeFileSync(join(dir, 'web/server.mjs'), appFiles('web', 'v2')['web/server.mjs']);
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const s = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.releases.map((x) => x.status).sort()).toEqual(['live', 'warm']);
    const warm = web.releases.find((x) => x.status === 'warm')!;
    expect(warm.id).toBe(web.previous);
    expect(Date.parse(warm.warmUntil!)).toBeGreaterThan(Date.now());
    expect(web.instances.map((i) => [i.release, i.role])).toEqual(expect.arrayContaining([[web.release, 'live'], [web.previous, 'warm']]));
    const text = (await symphony(['status'], { cwd: dir })).stdout;
    expect(text).toMatch(new RegExp(`${web.release}-0 .* live\\n`));
    expect(text).toMatch(new RegExp(`${web.previous}-0 .* warm until \\S+`));
  });
});
