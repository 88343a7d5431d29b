import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { Journal } from '../src/state/journal.js';
import { StateStore } from '../src/state/store.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, symphony } from './helpers/cli.js';

// The agent is SIGKILLed (pid from <state>/agent.pid) in the middle of a
// blue-green deploy while the test process sends traffic: the deploy is
// finished by a new agent (the following apply re-attaches, or `symphony
// attach` after a detached apply) and no request fails.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: agentkill
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 3s, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

/** Wait until the latest operation has `step` started (not yet ended; or also ended, with `orDone`: a short step can start and end between two polls). */
async function waitForStep(step: string, orDone = false): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const store = new StateStore(state);
    try {
      const op = new Journal(store).list('default', 1)[0];
      if (op && op.status === 'running' && new Journal(store).steps(op.id).some((s) => s.name === step && (s.status === 'started' || (orDone && s.status === 'done')))) return op.id;
    } finally {
      store.close();
    }
    await sleep(25);
  }
  throw new Error(`step ${step} never started`);
}

const agentPid = (): number => Number(readFileSync(join(state, 'agent.pid'), 'utf8').trim());

async function checkWhole(version: string, opId: string): Promise<void> {
  const store = new StateStore(state);
  try {
    expect(new Journal(store).list('default', 1)[0]).toMatchObject({ id: opId, status: 'succeeded' });
  } finally {
    store.close();
  }
  const web = (await agentStatus(state)).services.find((x) => x.name === 'web')!;
  expect(web.instances.map((i) => [i.release, i.alive])).toEqual([
    [web.release, true],
    [web.release, true],
  ]);
  const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
  expect(observed, 'a process runs that no record claims').toEqual(web.instances.map((i) => i.id).sort());
  expect((await get(`http://127.0.0.1:${port}/`)).body.startsWith(`${version} `)).toBe(true);
}

describe('agent killed in the middle of a deploy under traffic', () => {
  it('during the drain, with a 2-second request in flight: the following apply restarts the agent and finishes', async () => {
    setApp(dir, 'web', { version: 'v2' });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 2 }).start();
    await load.flowing();
    const before = agentPid();
    const apply = symphony(['apply', '--yes'], { cwd: dir });
    await waitForStep('web:start', true);
    const slow = get(`http://127.0.0.1:${port}/slow?ms=2000`);
    const opId = await waitForStep('web:drain');
    process.kill(agentPid(), 'SIGKILL');
    const r = await apply;
    const slowDone = await slow;
    await load.flowing();
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('agent unreachable; restarting it');
    expect(agentPid()).not.toBe(before);
    expect(slowDone.status).toBe(200);
    expect(slowDone.body).toMatch(/^v1 .* slow/);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    await checkWhole('v2', opId);
  });

  it('during the health wait of a slow-starting release: symphony attach finishes a detached apply', async () => {
    setApp(dir, 'web', { version: 'v3', startDelayMs: 1500 });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 2 }).start();
    await load.flowing();
    const detached = await symphony(['apply', '--yes', '--detach'], { cwd: dir });
    expect(detached.code, detached.stderr).toBe(0);
    const opId = await waitForStep('web:health');
    const before = agentPid();
    process.kill(before, 'SIGKILL');
    await load.flowing();
    const r = await symphony(['attach'], { cwd: dir });
    await load.flowing();
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain(`operation ${opId} succeeded`);
    expect(agentPid()).not.toBe(before);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(report.versions.v3).toBeGreaterThan(0);
    await checkWhole('v3', opId);
  });
});
