import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { StateStore } from '../src/state/store.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, appliedStack, type AppVariant, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, json, symphony } from './helpers/cli.js';

// A release whose health never passes, applied under load: the apply fails
// with the reason and the next step, the old release keeps serving without a
// failed request, and nothing of the new release is left running.
let dir: string;
let state: string;
let port: number;
let live: string;

interface History {
  services: { name: string; current: string; releases: { id: string; status: string }[] }[];
  operations: { id: string; kind: string; status: string; error: string | null }[];
}

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: failhealth
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms, start_timeout: 3s }
    deploy: { drain: 1s, grace: 2s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
  live = (await agentStatus(state)).services[0].release!;
});

afterAll(async () => {
  await cleanup(state);
});

const cases: Array<[string, AppVariant, RegExp]> = [
  ['exits at start', { version: 'v2', mode: 'exit' }, /instance web-[0-9a-f]{8}-\d exited before it became healthy/],
  ['never passes its probe', { version: 'v3', mode: 'unhealthy' }, /instance web-[0-9a-f]{8}-\d did not become healthy within \d+ ms \(last probe: .*503/],
];

describe('a release whose health never passes', () => {
  it.each(cases)('%s: apply exits 1, old release keeps serving, the new one is gone', async (_name, variant, reason) => {
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 2 }).start();
    await load.flowing();
    setApp(dir, 'web', variant);
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    await load.flowing();
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/operation \S+ undone: web:health: /);
    expect(out).toMatch(reason);
    expect(out).toMatch(/look at its log( for the reason)?: \S+\/logs\/web-[0-9a-f]{8}-\d\.log/);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(Object.keys(report.versions)).toEqual(['v1']);

    const s = await agentStatus(state);
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.release).toBe(live);
    expect(web.instances.map((i) => [i.release, i.alive])).toEqual([
      [live, true],
      [live, true],
    ]);
    const failed = s.operation!;
    expect(failed.status).toBe('undone');

    const store = new StateStore(state);
    try {
      const target = /replace\s+\S+ -> (web-[0-9a-f]{8})/.exec(out)![1];
      const newest = store.instances('default', { service: 'web' }).filter((i) => i.release === target);
      expect(newest.map((i) => i.ordinal).sort()).toEqual(['0', '1']);
      for (const i of newest) expect(['stopped', 'failed'], i.id).toContain(i.status);
      const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
      expect(observed).toEqual(web.instances.map((i) => i.id).sort());
      const h = json<History>(await symphony(['history', 'web', '--json'], { cwd: dir }));
      const rel = h.services[0].releases.find((x) => x.id === target)!;
      expect(rel.status).toBe('failed');
      expect(h.services[0].current).toBe(live);
      expect(h.operations[0]).toMatchObject({ id: failed.id, status: 'undone' });
      expect(h.operations[0].error).toMatch(reason);
    } finally {
      store.close();
    }
    expect((await get(`http://127.0.0.1:${port}/`)).body).toMatch(/^v1 /);
  });
});
