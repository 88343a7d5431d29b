import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterClient } from '../src/router/client.js';
import { get } from './fixtures/release-apps/traffic.js';
import { appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, symphony } from './helpers/cli.js';

// `symphony pause` holds new requests on a route (they wait, they do not
// fail) until `symphony resume` or the pause's timeout.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: pause
services:
  web:
    run: node server.mjs
    dir: ./web
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

const paused = async (): Promise<boolean> => (await new RouterClient(join(state, 'router', 'router.sock')).stats()).routes.find((r) => r.listen === port)!.paused;

/** A request, whether it has answered yet, and when it did (ms since the epoch). */
function held(path = '/'): { done: () => boolean; answeredAt: () => number; result: Promise<{ status: number; body: string }> } {
  let answeredAt = 0;
  const result = get(`http://127.0.0.1:${port}${path}`).finally(() => (answeredAt = Date.now()));
  return { done: () => answeredAt !== 0, answeredAt: () => answeredAt, result };
}

describe('symphony pause / resume', () => {
  it('a request sent while paused waits and completes after resume', async () => {
    const p = await symphony(['pause', 'web'], { cwd: dir });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('resume with: symphony resume web');
    expect(await paused()).toBe(true);
    const req = held();
    await sleep(800);
    expect(req.done(), 'answered while the route was paused').toBe(false);
    const resumedAt = Date.now();
    const r = await symphony(['resume', 'web'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const res = await req.result;
    expect(req.answeredAt()).toBeGreaterThan(resumedAt);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^v1 /);
    expect(await paused()).toBe(false);
  });

  it('held requests go to the release that is live at resume (pause, deploy, resume)', async () => {
    expect((await symphony(['pause', String(port), '--timeout', '60s'], { cwd: dir })).code).toBe(0);
    const reqs = [held(), held(), held('/slow?ms=100')];
    setApp(dir, 'web', { version: 'v2' });
    const a = await symphony(['apply', '--yes'], { cwd: dir });
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(reqs.map((x) => x.done())).toEqual([false, false, false]);
    expect((await symphony(['resume', String(port)], { cwd: dir })).code).toBe(0);
    const out = await Promise.all(reqs.map((x) => x.result));
    expect(out.map((o) => [o.status, o.body.split(' ')[0]])).toEqual([
      [200, 'v2'],
      [200, 'v2'],
      [200, 'v2'],
    ]);
  });

  it('a forgotten pause lets requests through at its timeout, not fails them', async () => {
    // The router starts the 2 s after pausedAt, so the pause ends at pausedAt + 2 s or later.
    const pausedAt = Date.now();
    expect((await symphony(['pause', 'web', '--timeout', '2s'], { cwd: dir })).code).toBe(0);
    const sentAt = Date.now();
    expect(sentAt, 'the request must be sent while the route is still paused').toBeLessThan(pausedAt + 2000);
    const req = held();
    const res = await req.result;
    expect(res.status).toBe(200);
    expect(req.answeredAt() - pausedAt, 'answered before the pause timed out').toBeGreaterThanOrEqual(2000);
    expect(req.answeredAt() - sentAt, 'held for much longer than the pause').toBeLessThan(2000 + 1500);
    expect(await paused()).toBe(false);
  });

  it('names what is wrong when the target has no route', async () => {
    const r = await symphony(['pause', 'nope'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no route to nope');
  });
});
