import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import { AgentClient } from '../src/cli/agent-client.js';
import type { Plan } from '../src/plan/types.js';
import { StateStore } from '../src/state/store.js';
import { run } from '../src/util/exec.js';
import { freePort } from '../src/util/ports.js';
import { APP, BIN, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// The CLI's promises about saved plans, --target, the lock and unlock, file modes,
// logs -F and --state-dir, on one stack of real processes. Every command passes
// --state-dir; the default .symphony next to the stack file must never appear.
let dir: string;
let state: string;
let port: number;

const server = (version: string, delayMs = 0): string =>
  (delayMs ? `await new Promise((r) => setTimeout(r, ${delayMs}));\n` : '') + `process.env.APP_VERSION ??= ${JSON.stringify(version)};\nawait import(${JSON.stringify(APP)});\n`;
const tick = (tag: string): string => `setInterval(() => console.log('${tag}', Date.now()), 100);\nprocess.on('SIGTERM', () => process.exit(0));\n`;

const stack = (p: number): string => `name: locks
services:
  store:
    run: node server.mjs
    dir: ./store
  api:
    run: node server.mjs
    dir: ./api
    uses: [store]
    health: { http: /healthz, start_timeout: 60s }
    deploy: { drain: 0s, grace: 1s, warm: 0s }
  worker:
    run: node tick.mjs
    dir: ./worker
routes:
  - { listen: ${p}, to: api }
`;

const cli = (args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
const status = async (): Promise<EnvStatus> => json<EnvStatus>(await cli(['status', '--json']));
/** The error a command printed and its next step (apply prints its plan before them). */
const refusal = (stderr: string): string[] => {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  return lines.slice(at, at + 2);
};
const live = (s: EnvStatus, svc: string) => s.services.find((x) => x.name === svc)?.instances ?? [];

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(port), 'store/server.mjs': server('s1'), 'api/server.mjs': server('a1'), 'worker/tick.mjs': tick('w1') });
  state = join(dir, 'st');
});

afterAll(async () => {
  await cleanup(state);
});

describe('the CLI on a stack of real processes', () => {
  it('creates the state dir 0711, agent.sock and state.db 0600 itself, whatever the umask', async () => {
    // The first command of all, under a umask that would make everything private.
    const r = await run('sh', ['-c', `umask 077 && exec "${process.execPath}" "${BIN}" apply -t api --yes --state-dir "${state}"`], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o711);
    expect(statSync(join(state, 'agent.sock')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'state.db')).mode & 0o777).toBe(0o600);
  });

  it('apply -t <svc> applied that service and what it needs, nothing else', async () => {
    const s = await status();
    expect(s.services.map((x) => x.name).sort()).toEqual(['api', 'store']);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^a1 /);
  });

  it('a saved plan is refused once the state moved, by the CLI and by the agent', async () => {
    const saved = join(dir, 'all.json');
    expect((await cli(['plan', '-o', saved])).code).toBe(0);
    const plan = JSON.parse(readFileSync(saved, 'utf8')) as Plan;
    const moved = await cli(['apply', '-t', 'worker', '--yes']);
    expect(moved.code, moved.stderr).toBe(0);
    const serial = new StateStore(state);
    const now = serial.serial();
    serial.close();
    expect(now).toBeGreaterThan(plan.serial);

    const r = await cli(['apply', saved, '--yes']);
    expect(r.code).toBe(1);
    expect(refusal(r.stderr)).toEqual([
      `error: the saved plan was made at state serial ${plan.serial}, but the state is now at ${now}`,
      'next: make a new plan: symphony plan -o <file>, review it, then symphony apply <file>',
    ]);
    // The agent checks too: a client that skips the CLI's check gets the same refusal.
    const c = new AgentClient(join(state, 'agent.sock'));
    await expect(c.call('POST', '/v1/operations', { plan })).rejects.toMatchObject({ code: 'plan_stale' });
    await c.close();
    expect((await cli(['history', '--json'])).stdout).not.toContain(`"serial":${plan.serial},`);
  });

  it('files edited between plan and apply: ArtifactChangedError, and the running release stays', async () => {
    const before = await status();
    writeFileSync(join(dir, 'worker/tick.mjs'), tick('w2'));
    const saved = join(dir, 'worker.json');
    expect((await cli(['plan', '-t', 'worker', '-o', saved])).code).toBe(0);
    const planned = (JSON.parse(readFileSync(saved, 'utf8')) as Plan).releases;
    writeFileSync(join(dir, 'worker/tick.mjs'), tick('w3-not-planned'));
    const r = await cli(['apply', saved, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/the files of worker changed since the plan \(planned [0-9a-f]{8}, on disk now [0-9a-f]{8}\)/);
    const after = await status();
    expect(live(after, 'worker').map((i) => [i.id, i.pid, i.alive])).toEqual(live(before, 'worker').map((i) => [i.id, i.pid, true]));
    const digest = Object.values(planned).find((c) => c.service === 'worker')!.artifact;
    expect(readdirSync(join(state, 'artifacts'))).not.toContain(digest);
    const logs = await cli(['logs', 'worker', '-n', '50']);
    expect(logs.stdout).toContain('w1 ');
    expect(logs.stdout).not.toContain('w3-not-planned');
  });

  it('logs -F follows lines written after it started', async () => {
    const child = spawn(process.execPath, [BIN, 'logs', 'worker', '-F', '-n', '1', '--state-dir', state], { cwd: dir });
    const exited = new Promise((res) => child.once('exit', res));
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const started = Date.now();
    await sleep(1500);
    child.kill('SIGINT');
    await exited;
    const stamps = out.split('\n').filter(Boolean).map((l) => Number(l.split(' ').at(-1)));
    expect(out).toMatch(/\| w1 \d+/);
    // -n 1 printed one line of history; the rest were written while following.
    expect(stamps.filter((t) => t > started + 300).length).toBeGreaterThanOrEqual(5);
  });

  it('a second apply while one runs gets the lock-held error; unlock refuses the live holder; attach follows it to the end', async () => {
    writeFileSync(join(dir, 'worker/tick.mjs'), tick('w1'));
    writeFileSync(join(dir, 'api/server.mjs'), server('a2', 4000));
    const first = await cli(['apply', '-t', 'api', '--detach', '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const op = (JSON.parse(first.stdout) as { operation: string }).operation;
    const lock = (await status()).lock!;
    expect(lock.operation).toBe(op);

    const second = await cli(['apply', '--yes']);
    expect(second.code).toBe(1);
    expect(refusal(second.stderr)).toEqual([
      `error: the lock is held by ${lock.holder} (lease ${lock.id}, since ${lock.acquiredAt}, expires ${lock.expiresAt}, operation ${op})`.replace(/expires [^,]+/, second.stderr.match(/expires [^,]+/)![0]),
      `next: wait for it to finish (symphony status), or if the holder is gone: symphony unlock ${lock.id}`,
    ]);
    expect(Date.parse(second.stderr.match(/expires ([^,]+)/)![1])).toBeGreaterThan(Date.now());
    const c = new AgentClient(join(state, 'agent.sock'));
    const plan = json<Plan>(await cli(['plan', '--json']));
    await expect(c.call('POST', '/v1/operations', { plan })).rejects.toMatchObject({ code: 'lock_held' });
    await c.close();

    const unlock = await cli(['unlock', lock.id]);
    expect(unlock.code).toBe(1);
    expect(refusal(unlock.stderr)).toEqual([
      `error: lock ${lock.id} is held by ${lock.holder}, which is alive and running operation ${op}; unlock only removes a dead holder's lock`,
      `next: wait for it to finish: symphony attach ${op}`,
    ]);
    const attach = await cli(['attach', op]);
    expect(attach.code, attach.stderr).toBe(0);
    expect(attach.stdout).toContain(`operation ${op} succeeded`);
    expect((await status()).lock).toBeNull();
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^a2 /);
  });

  it("unlock removes a dead holder's lock, and apply goes ahead", async () => {
    writeFileSync(join(dir, 'worker/tick.mjs'), tick('w4'));
    const gone = spawn('true');
    await new Promise((res) => gone.once('exit', res));
    const store = new StateStore(state);
    const at = new Date().toISOString();
    const expires = new Date(Date.now() + 600_000).toISOString();
    store.db
      .prepare(`INSERT INTO leases (env, id, holder, operation, acquired_at, heartbeat_at, expires_at) VALUES ('default', 'lease-dead0001', ?, NULL, ?, ?, ?)
         ON CONFLICT (env) DO UPDATE SET id = excluded.id, holder = excluded.holder, operation = NULL, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`)
      .run(`someone@host via agent pid ${gone.pid}`, at, at, expires);
    store.close();
    const refused = await cli(['apply', '--yes']);
    expect(refused.code).toBe(1);
    expect(refusal(refused.stderr)[0]).toBe(`error: the lock is held by someone@host via agent pid ${gone.pid} (lease lease-dead0001, since ${at}, expires ${expires})`);

    const unlock = await cli(['unlock', 'lease-dead0001']);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout.trim()).toBe(`released lock lease-dead0001 held by someone@host via agent pid ${gone.pid}`);
    const again = await cli(['unlock', 'lease-dead0001']);
    expect(again.code).toBe(1);
    expect(refusal(again.stderr)[0]).toBe('error: no lock with id lease-dead0001');
    const applied = await cli(['apply', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('--state-dir is honoured by every verb: nothing is written next to the stack file', async () => {
    for (const args of [['validate'], ['plan'], ['status'], ['drift'], ['history'], ['output', 'api'], ['logs', 'api', '-n', '1'], ['pause', 'api'], ['resume', 'api'], ['events', '-n', '5'], ['rollback', 'api'], ['attach'], ['rehearse'], ['pipeline', 'history'], ['agent', 'stop'], ['status', '--json']]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect((await cli(['output', 'api'])).stdout.trim()).toBe(`http://127.0.0.1:${port}`);
    expect((await cli(['history'])).stdout).toMatch(/op-\d{14}-[0-9a-f]{6}/);
    const destroyed = await cli(['destroy', '--yes']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect((await status()).services).toEqual([]);
    expect(existsSync(join(dir, '.symphony'))).toBe(false);
  });
});
