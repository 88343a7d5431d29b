import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { Plan } from '../src/plan/types.js';
import { AgentClient } from '../src/cli/agent-client.js';
import { freePort } from '../src/util/ports.js';
import { pidAlive } from '../src/util/pid.js';
import { appFiles, cleanup, json, stackDir, stopAgent, symphony } from './helpers/cli.js';

// A 3-service stack of real processes: store (with a volume), api (references
// store and is routed), worker. Each phase builds on the previous one.
let dir: string;
let state: string;
let port: number;
let storePort: number;

const stack = (p: number): string => `name: trio
services:
  store:
    run: node server.mjs
    dir: ./store
    volume: store-data
    env: { DATA_DIR: "\${store-data}" }
  api:
    run: node server.mjs
    dir: ./api
    replicas: 2
    env: { UPSTREAM_URL: "\${store.url}" }
    uses: [store]
    health: { http: /healthz }
    deploy: { drain: 1s, grace: 2s }
  worker:
    run: node server.mjs
    dir: ./worker
routes:
  - { listen: ${p}, to: api }
  - { listen: ${storePort}, to: store }
`;

// Polls go straight to the agent's socket; the CLI's own `status` is exercised in the first test.
const status = async (): Promise<EnvStatus> => {
  const c = new AgentClient(join(state, 'agent.sock'));
  try {
    return await c.call<EnvStatus>('GET', '/v1/status?env=default');
  } finally {
    await c.close();
  }
};
const pids = (s: EnvStatus, svc: string): number[] => s.services.find((x) => x.name === svc)!.instances.map((i) => i.pid!).sort();

beforeAll(async () => {
  port = await freePort();
  // Two ports the kernel handed out, not `port + 1`, which something else may hold.
  do storePort = await freePort();
  while (storePort === port);
  dir = stackDir({ 'symphony.yaml': stack(port).replace('DATA_DIR: "${store-data}"', 'STORE: "1"'), ...appFiles('store'), ...appFiles('api'), ...appFiles('worker') });
  state = join(dir, '.symphony');
});

afterAll(async () => {
  await cleanup(state);
});

describe('a 3-service stack of real processes', () => {
  it('applies, routes and reports every service', async () => {
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const s = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
    expect(s.services.map((x) => x.name).sort()).toEqual(['api', 'store', 'worker']);
    for (const svc of s.services) for (const i of svc.instances) expect(i.alive, i.id).toBe(true);
    expect(s.services.find((x) => x.name === 'api')!.instances).toHaveLength(2);
    const res = await fetch(`http://127.0.0.1:${port}/upstream`);
    expect(await res.text()).toBe(`http://127.0.0.1:${storePort}`);
  });

  it('plans no change when nothing changed', async () => {
    const plan = json<Plan>(await symphony(['plan', '--json'], { cwd: dir }));
    expect(plan.steps).toEqual([]);
    expect(plan.changes.map((c) => c.action)).toEqual(['none', 'none', 'none']);
  });

  it('replaces only the service whose files changed', async () => {
    const before = await status();
    writeFileSync(join(dir, 'api/server.mjs'), readFileSync(join(dir, 'api/server.mjs'), 'utf8').replace('v1', 'v2'));
    const plan = json<Plan>(await symphony(['plan', '--json'], { cwd: dir }));
    expect(plan.changes.filter((c) => c.action !== 'none').map((c) => [c.service, c.action])).toEqual([['api', 'replace']]);
    expect(plan.changes.find((c) => c.service === 'api')!.reasons[0]).toMatch(/^files changed/);
    expect((await symphony(['apply', '--yes'], { cwd: dir })).code).toBe(0);
    const after = await status();
    expect(pids(after, 'store')).toEqual(pids(before, 'store'));
    expect(pids(after, 'worker')).toEqual(pids(before, 'worker'));
    expect(after.services.find((x) => x.name === 'api')!.release).not.toBe(before.services.find((x) => x.name === 'api')!.release);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v2 /);
  });

  // api's release depends on store's attributes (its route), not on store's files: api itself stays.
  it('--target limits the plan to a service and what it needs', async () => {
    for (const svc of ['store', 'worker']) {
      writeFileSync(join(dir, `${svc}/server.mjs`), readFileSync(join(dir, `${svc}/server.mjs`), 'utf8').replace('v1', 'v3'));
    }
    const plan = json<Plan>(await symphony(['plan', '--json', '--target', 'worker'], { cwd: dir }));
    expect(plan.changes.map((c) => [c.service, c.action])).toEqual([['worker', 'replace']]);
    const api = json<Plan>(await symphony(['plan', '--json', '--target', 'api'], { cwd: dir }));
    expect(api.changes.map((c) => [c.service, c.action])).toEqual([
      ['store', 'replace'],
      ['api', 'none'],
    ]);
    const unknown = await symphony(['plan', '--target', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no service named nope');
  });

  it('reports drift after an instance is killed by hand, and the supervisor restarts it', async () => {
    const s = await status();
    const victim = s.services.find((x) => x.name === 'worker')!.instances[0];
    // Killed while no agent watches: the agent `drift` starts finds the death before its supervisor acts.
    await stopAgent(state);
    process.kill(victim.pid!, 'SIGKILL');
    const drift = await symphony(['drift', '--json'], { cwd: dir });
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout).drift.map((d: { instance: string }) => d.instance)).toContain(victim.id);
    let restarted = false;
    for (let i = 0; i < 100 && !restarted; i++) {
      await sleep(200);
      const inst = (await status()).services.find((x) => x.name === 'worker')!.instances[0];
      restarted = inst.alive && inst.restarts >= 1 && inst.pid !== victim.pid;
    }
    expect(restarted).toBe(true);
    expect((await symphony(['drift'], { cwd: dir })).code).toBe(0);
  });

  it('destroy stops everything and keeps volumes; --volumes removes them', async () => {
    const volume = join(state, 'volumes/default/store-data');
    writeFileSync(join(dir, 'symphony.yaml'), stack(port).replace('DATA_DIR: "${store-data}"', 'STORE: "1"'));
    expect(existsSync(volume)).toBe(true);
    writeFileSync(join(volume, 'keep.txt'), 'precious');
    const agentPid = (await status()).agent!.pid;
    const r = await symphony(['destroy', '--yes'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // Nothing left in the state dir: destroy stopped its agent (and router) too.
    expect(r.stderr).toContain('no service left: stopped the agent and the router of this state dir');
    for (let i = 0; i < 100 && pidAlive(agentPid); i++) await sleep(50);
    expect(pidAlive(agentPid)).toBe(false);
    const s = JSON.parse((await symphony(['status', '--json'], { cwd: dir })).stdout) as EnvStatus;
    expect(s.services).toEqual([]);
    expect(s.router).toMatchObject({ running: false, routes: 0 });
    expect(readFileSync(join(volume, 'keep.txt'), 'utf8')).toBe('precious');
    const again = await symphony(['apply', '--yes'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(volume, 'keep.txt'), 'utf8')).toBe('precious');
    expect((await symphony(['destroy', '--yes', '--volumes'], { cwd: dir })).code).toBe(0);
    expect(existsSync(volume)).toBe(false);
  });
});
