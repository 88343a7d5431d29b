import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { RouterConfig } from '../src/router/types.js';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { freePort } from '../src/util/ports.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, releaseFiles, routerConfig, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, stackDir, symphony } from './helpers/cli.js';

// Rolling (3 replicas, max_surge 1) under load: the route is sampled from the
// router and the agent while the deploy runs; capacity never drops below 3
// healthy running instances and the route never points at a stopped one.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir(
    releaseFiles(
      `name: rolling
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 3
    health: { http: /healthz, interval: 100ms }
    deploy: { strategy: rolling, max_surge: 1, drain: 500ms, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`,
      { web: { version: 'v1' } },
    ),
  );
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await cleanup(state);
});

interface Sample {
  /** Instances the route sends traffic to whose process is alive and healthy. */
  serving: string[];
  /** Instances the route sends traffic to that are stopped or whose process is gone. */
  notRunning: string[];
  releases: string[];
}

function sample(s: EnvStatus, cfg: RouterConfig): Sample {
  const web = s.services.find((x) => x.name === 'web')!;
  const byId = new Map(web.instances.map((i) => [i.id, i]));
  const route = cfg.routes.find((r) => r.listen === port)!;
  const routed = route.backends.filter((b) => b.weight > 0).flatMap((b) => b.upstreams.map((u) => u.id));
  // A replica marked `stopping` still serves until the route drops it; only then is it signalled.
  const up = (id: string): boolean => {
    const i = byId.get(id);
    return i !== undefined && i.status !== 'stopped' && i.alive;
  };
  return {
    serving: routed.filter((id) => up(id) && byId.get(id)!.health === 'healthy'),
    notRunning: routed.filter((id) => !up(id)),
    releases: route.backends.filter((b) => b.weight > 0).map((b) => b.release),
  };
}

describe('rolling with replicas 3, max_surge 1', () => {
  it('ends with 3 new replicas, 0 failed requests, never fewer than 3 healthy serving instances', async () => {
    const before = (await agentStatus(state)).services[0].release!;
    setApp(dir, 'web', { version: 'v2' });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 3, fresh: 2 }).start();
    await load.flowing();
    const samples: Sample[] = [];
    let applying = true;
    const poll = (async () => {
      while (applying) {
        const [s, cfg] = await Promise.all([agentStatus(state), routerConfig(state)]);
        samples.push(sample(s, cfg));
        await sleep(50);
      }
    })();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    applying = false;
    await poll;
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('web:rolling');
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    // Both releases took traffic at once at some point: it really rolled.
    expect(samples.some((x) => x.releases.length === 2)).toBe(true);
    const thin = samples.filter((x) => x.serving.length < 3);
    expect(thin, JSON.stringify(thin.slice(0, 3))).toEqual([]);
    const stale = samples.filter((x) => x.notRunning.length > 0);
    expect(stale, JSON.stringify(stale.slice(0, 3))).toEqual([]);

    const s = await agentStatus(state);
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.release).not.toBe(before);
    expect(web.instances.map((i) => [i.release, i.alive])).toEqual([
      [web.release, true],
      [web.release, true],
      [web.release, true],
    ]);
    const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
    expect(observed).toEqual(web.instances.map((i) => i.id).sort());
    const route = (await routerConfig(state)).routes.find((x) => x.listen === port)!;
    expect(route.backends.filter((b) => b.weight > 0).map((b) => [b.release, b.upstreams.length])).toEqual([[web.release, 3]]);
    for (let i = 0; i < 10; i++) expect((await get(`http://127.0.0.1:${port}/`)).body).toMatch(/^v2 /);
  });
});
