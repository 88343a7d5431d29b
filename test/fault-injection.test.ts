import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { StateStore } from '../src/state/store.js';
import { Journal } from '../src/state/journal.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, stopAgent, symphony } from './helpers/cli.js';

// Kill the agent at every step of a blue-green replace (before the step's
// action and after it, before it is journaled done), let the next agent
// recover from the journal, and check the stack is whole.
const STEPS = ['web:release', 'web:start', 'web:health', 'web:switch', 'web:drain', 'web:stop-old'];
const POINTS = STEPS.flatMap((s) => [`${s}:before`, s]);

let dir: string;
let state: string;
let port: number;
let version = 1;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({
    'symphony.yaml': `name: faults
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    volume: web-data
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 200ms, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`,
    ...appFiles('web'),
  });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  writeFileSync(join(state, 'volumes/default/web-data/precious.txt'), 'keep me');
});

afterAll(async () => {
  await cleanup(state);
});

async function checkWhole(): Promise<void> {
  const s = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
  const web = s.services.find((x) => x.name === 'web')!;
  expect(s.operation?.status).toBe('succeeded');
  expect(web.instances.map((i) => i.release).every((r) => r === web.release)).toBe(true);
  expect(web.instances).toHaveLength(2);
  for (const i of web.instances) expect(i.alive, `${i.id} recorded but not running`).toBe(true);
  const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
  expect(observed, 'a process runs that no record claims').toEqual(web.instances.map((i) => i.id).sort());
  expect(readFileSync(join(state, 'volumes/default/web-data/precious.txt'), 'utf8')).toBe('keep me');
  const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  expect(body.startsWith(`v${version} `), body).toBe(true);
}

describe('agent killed at every step of a replace', () => {
  it.each(POINTS)('recovers after a crash at %s', async (point) => {
    await stopAgent(state);
    version++;
    writeFileSync(join(dir, 'web/server.mjs'), readFileSync(join(dir, 'web/server.mjs'), 'utf8').replace(/"v\d+"/, `"v${version}"`));
    const r = await symphony(['apply', '--yes'], { cwd: dir, env: { SYMPHONY_FAILPOINTS: point } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('agent unreachable; restarting it');
    const fired = readFileSync(join(state, 'failpoints.fired'), 'utf8');
    expect(fired.split('\n')).toContain(point);
    const store = new StateStore(state);
    const op = new Journal(store).list('default', 1)[0];
    store.close();
    expect(op.status).toBe('succeeded');
    await checkWhole();
    expect(statSync(join(state, 'volumes/default/web-data')).isDirectory()).toBe(true);
  });
});
