import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirDigest } from '../src/apply/artifact.js';
import { freePort } from '../src/util/ports.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, releaseFiles, setApp, type AppVariant } from './fixtures/release-apps/stack.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';

// The warm window ends: the previous release is stopped by the agent, and a
// rollback to it is a cold start that runs the same health gate as a deploy.
let dir: string;
let state: string;
let port: number;
let breaker: string;
let v1: AppVariant;
let r1: string;
let a1: string;
let r2: string;

interface History {
  services: { name: string; current: string; releases: { id: string; status: string }[] }[];
}
const releaseStatus = async (id: string): Promise<string | undefined> =>
  json<History>(await symphony(['history', 'web', '--json'], { cwd: dir })).services[0].releases.find((r) => r.id === id)?.status;
const body = async (): Promise<string> => (await get(`http://127.0.0.1:${port}/`)).body;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir(
    releaseFiles(
      `name: warm
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms, start_timeout: 3s }
    deploy: { drain: 500ms, grace: 2s, warm: 2s }
routes:
  - { listen: ${port}, to: web }
`,
      { web: { version: 'v1' } },
    ),
  );
  breaker = join(dir, 'break-web');
  v1 = { version: 'v1', modeFile: breaker };
  setApp(dir, 'web', v1);
  state = join(dir, '.symphony');
  expect((await symphony(['apply', '--yes'], { cwd: dir })).code).toBe(0);
  r1 = (await agentStatus(state)).services[0].release!;
  a1 = dirDigest(join(dir, 'web'));
  setApp(dir, 'web', { version: 'v2', modeFile: breaker });
  expect((await symphony(['apply', '--yes'], { cwd: dir })).code).toBe(0);
  r2 = (await agentStatus(state)).services[0].release!;
});

afterAll(async () => {
  await cleanup(state);
});

describe('warm window and cold rollback', () => {
  it('the previous release stays warm for deploy.warm, then the agent stops it', async () => {
    let running = (await agentStatus(state)).services[0].instances.filter((i) => i.release === r1);
    expect(running.length).toBeGreaterThan(0);
    for (let i = 0; i < 150 && running.length > 0; i++) {
      await sleep(200);
      running = (await agentStatus(state)).services[0].instances.filter((i) => i.release === r1);
    }
    expect(running).toEqual([]);
    expect(await releaseStatus(r1)).toBe('retired');
  });

  it('the retired release keeps its own copy of its files, while the files on disk are the next version', async () => {
    const copy = join(state, 'artifacts', a1);
    expect(readFileSync(join(copy, 'server.mjs'), 'utf8')).toContain('"v1"');
    expect(readFileSync(join(dir, 'web', 'server.mjs'), 'utf8')).toContain('"v2"');
  });

  it('a cold rollback whose health fails is undone: the live release keeps serving', async () => {
    // The files on disk stay v2: the rollback runs v1 from its own copy.
    writeFileSync(breaker, 'exit');
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 1 }).start();
    await load.flowing();
    const r = await symphony(['rollback', 'web'], { cwd: dir });
    const report = await load.stop();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`roll back to ${r1} (cold start)`);
    expect(r.stdout + r.stderr).toMatch(/undone: web:health: instance web-[0-9a-f]{8}-\d exited before it became healthy/);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(Object.keys(report.versions)).toEqual(['v2']);
    expect((await agentStatus(state)).services[0].release).toBe(r2);
    expect(await body()).toMatch(/^v2 /);
  });

  it('the same cold rollback passes once the release is healthy again', async () => {
    rmSync(breaker);
    const r = await symphony(['rollback', 'web'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`roll back to ${r1} (cold start)`);
    expect(await body()).toMatch(/^v1 /);
    const web = (await agentStatus(state)).services[0];
    expect(web.release).toBe(r1);
    expect(web.instances.filter((i) => i.release === r1 && i.alive && i.health === 'healthy')).toHaveLength(2);
    expect(await releaseStatus(r1)).toBe('live');
  });
});
