import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirDigest } from '../src/apply/artifact.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { pidAlive } from '../src/util/pid.js';
import { cleanup, json, stopAgent, symphony } from './helpers/cli.js';

// Rollback through the real CLI: back to the warm previous release at once,
// under load; back to a release whose warm instances were killed by hand; and
// a cold start from the release's own copy of its files; the clear refusals
// (unknown release, cold release whose copy and files are both gone).
let dir: string;
let state: string;
let port: number;
let v1: string;
let v2: string;
let a2: string;

interface History {
  services: { name: string; current: string; releases: { id: string; status: string; warmUntil: string | null }[] }[];
  operations: { id: string; kind: string; status: string; error: string | null }[];
}

const history = async (): Promise<History> => json<History>(await symphony(['history', 'web', '--json'], { cwd: dir }));
const statusOf = (h: History, id: string): string | undefined => h.services[0].releases.find((r) => r.id === id)?.status;
const body = async (): Promise<string> => (await get(`http://127.0.0.1:${port}/`)).body;
const webStatus = async () => (await agentStatus(state)).services.find((x) => x.name === 'web')!;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: rollback
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, grace: 2s, warm: 5m }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
  v1 = (await webStatus()).release!;
  setApp(dir, 'web', { version: 'v2' });
  expect((await symphony(['apply', '--yes'], { cwd: dir })).code).toBe(0);
  v2 = (await webStatus()).release!;
  a2 = dirDigest(join(dir, 'web'));
});

afterAll(async () => {
  await cleanup(state);
});

describe('symphony rollback', () => {
  it('goes back to the warm previous release at once, under load, and history marks it', async () => {
    const h0 = await history();
    expect(h0.services[0].current).toBe(v2);
    expect(statusOf(h0, v1)).toBe('warm');
    expect(h0.services[0].releases.find((r) => r.id === v1)!.warmUntil).not.toBeNull();
    expect(await body()).toMatch(/^v2 /);

    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 2 }).start();
    await load.flowing();
    const r = await symphony(['rollback', 'web'], { cwd: dir });
    const first = await body();
    await load.flowing();
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`roll back to warm ${v1}`);
    expect(r.stderr).not.toContain('web:start');
    expect(first).toMatch(/^v1 /);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v1).toBeGreaterThan(0);

    const h = await history();
    expect(h.services[0].current).toBe(v1);
    expect(statusOf(h, v1)).toBe('live');
    expect(statusOf(h, v2)).toBe('warm');
    expect(h.operations[0]).toMatchObject({ kind: 'rollback', status: 'succeeded' });
  });

  it('back to a release whose warm instances were killed by hand: its instances run again and pass health before the switch', async () => {
    const killed = (await webStatus()).instances.filter((i) => i.release === v2);
    expect(killed).toHaveLength(2);
    for (const i of killed) process.kill(i.pid!, 'SIGKILL');
    for (let n = 0; n < 100 && killed.some((i) => pidAlive(i.pid!)); n++) await sleep(20);

    const r = await symphony(['rollback', 'web'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await body()).toMatch(/^v2 /);
    const web = await webStatus();
    expect(web.release).toBe(v2);
    const now = web.instances.filter((i) => i.release === v2);
    expect(now).toHaveLength(2);
    for (const i of now) {
      expect(i.alive, i.id).toBe(true);
      expect(i.health, i.id).toBe('healthy');
      expect(killed.map((k) => k.pid)).not.toContain(i.pid);
    }
    const h = await history();
    expect(h.services[0].current).toBe(v2);
    expect(statusOf(h, v1)).toBe('warm');
  });

  it('--to an unknown release fails clearly and changes nothing', async () => {
    const r = await symphony(['rollback', 'web', '--to', 'web-deadbeef'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('web has no release web-deadbeef');
    expect(r.stderr).toContain('symphony history web');
    expect((await history()).services[0].current).toBe(v2);
    expect(await body()).toMatch(/^v2 /);
  });

  it('to a release that is no longer warm and whose files changed on disk: a cold start from its own copy of the files', async () => {
    // No agent runs, so no supervisor brings the killed instances back meanwhile.
    const warm = (await webStatus()).instances.filter((i) => i.release === v1);
    await stopAgent(state);
    for (const i of warm) process.kill(i.pid!, 'SIGKILL');
    for (let n = 0; n < 100 && warm.some((i) => pidAlive(i.pid!)); n++) await sleep(20);
    const r = await symphony(['rollback', 'web', '--to', v1], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`roll back to ${v1} (cold start)`);
    expect(await body()).toMatch(/^v1 /);
    expect(readFileSync(join(dir, 'web', 'server.mjs'), 'utf8')).toContain('"v2"');
  });

  it('to a cold release whose copy of the files is gone and whose files changed on disk: refused with the way out', async () => {
    const warm = (await webStatus()).instances.filter((i) => i.release === v2);
    await stopAgent(state);
    for (const i of warm) process.kill(i.pid!, 'SIGKILL');
    for (let n = 0; n < 100 && warm.some((i) => pidAlive(i.pid!)); n++) await sleep(20);
    rmSync(join(state, 'artifacts', a2), { recursive: true });
    setApp(dir, 'web', { version: 'v3' });
    const r = await symphony(['rollback', 'web', '--to', v2], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${v2} is no longer warm, its copy of the files is gone, and its files differ from what is on disk now`);
    expect(r.stderr).toContain('symphony apply');
    expect(await body()).toMatch(/^v1 /);
  });
});

