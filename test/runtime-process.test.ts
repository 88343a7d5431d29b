import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHealthCheck, waitHealthy } from '../src/health/index.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import { readStat } from '../src/runtime/process/proc.js';
import type { InstanceHandle, InstanceSpec } from '../src/runtime/types.js';
import { run } from '../src/util/exec.js';
import { freePort } from '../src/util/ports.js';

const APP = fileURLToPath(new URL('./fixtures/apps/http-app.mjs', import.meta.url));
const CRASH = fileURLToPath(new URL('./fixtures/apps/start-and-crash.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

let dir: string;
let driver: ProcessDriver;
const started: InstanceHandle[] = [];

function spec(id: string, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return { id, service: 'api', release: 'r1', command: `exec node ${APP}`, cwd: dir, env: {}, logDir: join(dir, 'logs'), ...extra };
}

async function startApp(id: string, extra: Partial<InstanceSpec> = {}): Promise<InstanceHandle> {
  const handle = await driver.start(spec(id, extra));
  started.push(handle);
  return handle;
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function pidAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z';
}

async function healthy(handle: InstanceHandle, port: number): Promise<void> {
  const check = resolveHealthCheck({ http: '/healthz', interval: '50ms', timeout: '10s', start_timeout: '40s' });
  await waitHealthy(check, { host: '127.0.0.1', port }, { instance: handle.id, isAlive: () => driver.isAlive(handle) });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-runtime-'));
  driver = new ProcessDriver({ scope: join(dir, 'state') });
});

afterAll(async () => {
  for (const h of started) await driver.stop(h, { graceMs: 0 });
  for (const h of await driver.list()) await driver.stop(h, { graceMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessDriver', () => {
  it('starts a detached instance in its own session with a minimal, stamped environment', async () => {
    process.env.SYMPHONY_TEST_AGENT_SECRET = 'must-not-leak';
    const port = await freePort();
    const h = await startApp('api-env-0', { port, env: { GREETING: 'hello' } });
    await healthy(h, port);
    const res = await request(`http://127.0.0.1:${port}/env`);
    const env = (await res.body.json()) as Record<string, string>;
    expect(env.SYMPHONY_TEST_AGENT_SECRET).toBeUndefined();
    expect(env.VITEST).toBeUndefined();
    expect(env).toMatchObject({
      GREETING: 'hello',
      PORT: String(port),
      SYMPHONY_SCOPE: driver.scope,
      SYMPHONY_INSTANCE: 'api-env-0',
      SYMPHONY_SERVICE: 'api',
      SYMPHONY_RELEASE: 'r1',
      PATH: process.env.PATH,
    });
    const stat = readStat(h.pid);
    expect(stat).toMatchObject({ pgrp: h.pid, session: h.pid, startTime: h.startTime });
    expect(readFileSync(driver.logFile('api-env-0'), 'utf8')).toContain(`listening on ${port}`);
    delete process.env.SYMPHONY_TEST_AGENT_SECRET;
  });

  it('stops gracefully: the SIGTERM handler runs and the instance is gone', async () => {
    const port = await freePort();
    const marker = join(dir, 'graceful.marker');
    const h = await startApp('api-graceful-0', { port, command: `node ${APP}`, env: { MARKER: marker } });
    await healthy(h, port);
    await driver.stop(h, { graceMs: 10_000 });
    expect(readFileSync(marker, 'utf8')).toBe(`graceful ${h.pid}\n`); // a simple command runs as the instance pid itself
    expect(driver.isAlive(h)).toBe(false);
    await driver.stop(h, { graceMs: 10_000 });
    expect(driver.isAlive(h)).toBe(false);
  });

  it('stops a command the shell does not exec: SIGTERM reaches the app through the group', async () => {
    const port = await freePort();
    const marker = join(dir, 'wrapped.marker');
    const h = await startApp('api-wrapped-0', { port, command: `cd . && node ${APP}`, env: { MARKER: marker } });
    await healthy(h, port);
    expect((await driver.list()).find((o) => o.id === 'api-wrapped-0')?.pid).toBe(h.pid);
    await driver.stop(h, { graceMs: 10_000 });
    const graceful = readFileSync(marker, 'utf8');
    expect(graceful).toMatch(/^graceful \d+\n$/);
    const appPid = Number(graceful.split(' ')[1]);
    expect(appPid).not.toBe(h.pid);
    expect(pidAlive(appPid)).toBe(false);
    expect(driver.isAlive(h)).toBe(false);
  });

  it('measures CPU seconds and resident memory of the whole process group', async () => {
    const ready = join(dir, 'burned.marker');
    // The shell stays (not exec'd), its node child burns ~400 ms of CPU, holds 64 MiB, then idles.
    const burn = `const b=Buffer.alloc(64<<20,1);const t=Date.now();while(Date.now()-t<400);require('fs').writeFileSync(process.env.MARKER,'1');setInterval(()=>b[0]++,1000)`;
    const h = await startApp('api-usage-0', { command: `cd . && node -e "${burn}"`, env: { MARKER: ready } });
    await until('the child burned its CPU', () => existsSync(ready));
    const usage = (await driver.usage([h])).get(h.id);
    expect(usage?.processes).toBe(2);
    expect(usage!.cpuSeconds).toBeGreaterThanOrEqual(0.3);
    expect(usage!.residentBytes).toBeGreaterThan(64 * 1024 * 1024);
    await driver.stop(h, { graceMs: 0 });
    expect((await driver.usage([h])).has(h.id)).toBe(false);
  });

  it('kills the whole process group after the grace period when SIGTERM is ignored', async () => {
    const port = await freePort();
    const childPidFile = join(dir, 'stubborn.child');
    const h = await startApp('api-stubborn-0', { port, env: { IGNORE_TERM: '1', CHILD_PID_FILE: childPidFile } });
    await healthy(h, port);
    const childPid = Number(readFileSync(childPidFile, 'utf8'));
    expect(readStat(childPid)?.pgrp).toBe(h.pid);
    await driver.stop(h, { graceMs: 300 });
    expect(driver.isAlive(h)).toBe(false);
    expect(pidAlive(childPid)).toBe(false);
    expect(readFileSync(driver.logFile('api-stubborn-0'), 'utf8')).toContain('ignoring SIGTERM');
  });

  it('treats a handle whose start time differs as another process: not alive, never signalled', async () => {
    const h = await startApp('api-reuse-0');
    await until('instance to run', () => driver.isAlive(h));
    const reused: InstanceHandle = { ...h, startTime: h.startTime + 1 };
    expect(driver.isAlive(reused)).toBe(false);
    await driver.stop(reused, { graceMs: 0 });
    expect(driver.isAlive(h)).toBe(true);
    await driver.stop(h, { graceMs: 5_000 });
    expect(driver.isAlive(h)).toBe(false);
  });

  it('reports a process that exited (or is a zombie) as not alive', async () => {
    const h = await startApp('api-exit-0', { command: 'echo bye; exit 3' });
    await until('instance to exit', () => !driver.isAlive(h));
    expect(readFileSync(driver.logFile('api-exit-0'), 'utf8')).toBe('bye\n');
    expect((await driver.list()).map((o) => o.id)).not.toContain('api-exit-0');
  });

  it('refuses to start in a missing directory with an error naming the instance', async () => {
    await expect(driver.start(spec('api-nodir-0', { cwd: join(dir, 'missing') }))).rejects.toThrow(
      /cannot start instance api-nodir-0: working directory .*missing does not exist/,
    );
  });

  it('finds, through list(), an instance whose starting agent crashed before recording it', async () => {
    const port = await freePort();
    const logDir = join(dir, 'crash-logs');
    const res = await run(process.execPath, ['--import', 'tsx', CRASH, driver.scope, logDir, 'api-orphan-0', String(port)], {
      cwd: ROOT,
      timeoutMs: 30_000,
    });
    expect(res.signal).toBe('SIGKILL');
    const fresh = new ProcessDriver({ scope: driver.scope });
    const found = (await fresh.list()).find((o) => o.id === 'api-orphan-0');
    expect(found).toMatchObject({ id: 'api-orphan-0', service: 'api', release: 'r-crash', port });
    if (!found) return;
    expect(fresh.isAlive(found)).toBe(true);
    expect(fresh.logFile('api-orphan-0')).toBe(join(logDir, 'api-orphan-0.log'));
    await healthy(found, port);
    const other = new ProcessDriver({ scope: join(dir, 'another-state') });
    expect((await other.list()).map((o) => o.id)).not.toContain('api-orphan-0');
    await fresh.stop(found, { graceMs: 5_000 });
    expect(fresh.isAlive(found)).toBe(false);
    expect((await fresh.list()).map((o) => o.id)).not.toContain('api-orphan-0');
  });

  it('lists only group leaders of its own scope', async () => {
    const a = await startApp('api-list-0');
    const b = await startApp('api-list-1', { env: { CHILD_PID_FILE: join(dir, 'list.child') } });
    await until('child pid file', () => existsSync(join(dir, 'list.child')));
    const ids = (await driver.list()).filter((o) => o.id.startsWith('api-list-')).map((o) => [o.id, o.pid]);
    expect((await driver.list()).find((o) => o.id === 'api-list-0')?.port).toBeUndefined();
    expect(ids.sort()).toEqual([
      ['api-list-0', a.pid],
      ['api-list-1', b.pid],
    ]);
    await Promise.all([driver.stop(a, { graceMs: 5_000 }), driver.stop(b, { graceMs: 5_000 })]);
  });
});
