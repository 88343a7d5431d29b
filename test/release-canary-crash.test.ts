import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { agentStatus, appliedStack, routerConfig, setApp } from './fixtures/release-apps/stack.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { cleanup, symphony } from './helpers/cli.js';

// The agent is SIGKILLed while a canary holds a share of the traffic: the
// router keeps the split, the following apply starts a new agent, the canary
// resumes and ends on the new release. No request fails.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: canarycrash
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy: { strategy: canary, steps: [10, 50, 100], analysis: { interval: 2s }, drain: 500ms, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

describe('agent killed during a canary', () => {
  it('the canary resumes after the restart and ends on the new release with 0 failed requests', async () => {
    const agentPid = (): number => Number(readFileSync(join(state, 'agent.pid'), 'utf8').trim());
    const before = agentPid();
    setApp(dir, 'web', { version: 'v2' });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 3, fresh: 1 }).start();
    await load.flowing();
    let applying = true;
    let splitSeen: number[] | null = null;
    const watch = (async () => {
      while (applying && !splitSeen) {
        const route = (await routerConfig(state)).routes.find((x) => x.listen === port)!;
        const weights = route.backends.map((b) => b.weight);
        if (weights.filter((w) => w > 0).length === 2) {
          splitSeen = weights;
          process.kill(agentPid(), 'SIGKILL');
        }
        await sleep(25);
      }
    })();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    applying = false;
    await watch;
    await load.flowing();
    const report = await load.stop();

    expect(splitSeen, 'the canary split was never seen').not.toBeNull();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('agent unreachable; restarting it');
    expect(agentPid()).not.toBe(before);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);

    const s = await agentStatus(state);
    const web = s.services[0];
    expect(s.operation?.status).toBe('succeeded');
    expect(web.instances.map((i) => [i.release, i.alive])).toEqual([
      [web.release, true],
      [web.release, true],
    ]);
    const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
    expect(observed).toEqual(web.instances.map((i) => i.id).sort());
    const route = (await routerConfig(state)).routes.find((x) => x.listen === port)!;
    expect(route.backends.filter((b) => b.weight > 0).map((b) => [b.release, b.weight])).toEqual([[web.release, 100]]);
    for (let i = 0; i < 10; i++) expect((await get(`http://127.0.0.1:${port}/`)).body).toMatch(/^v2 /);
  });
});
