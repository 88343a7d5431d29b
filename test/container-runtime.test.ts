import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerDriver } from '../src/runtime/container/driver.js';
import { requireEngine, type Engine } from '../src/runtime/container/engine.js';
import { resolveImage } from '../src/runtime/container/image.js';
import { containerName } from '../src/runtime/container/labels.js';
import type { InstanceSpec } from '../src/runtime/types.js';
import { freePort } from '../src/util/ports.js';

const FIXTURE = resolve(__dirname, 'fixtures/container-app');

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const get = async (port: number, path = '/'): Promise<string> => (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) })).text();

describe('container runtime driver (real dockerd)', () => {
  let engine: Engine;
  let image: string;
  let scope: string;
  let driver: ContainerDriver;

  beforeAll(async () => {
    engine = await requireEngine();
    image = (await resolveImage(engine, { build: FIXTURE }, { stackDir: '/', stack: 'rt-test', service: 'web' })).id;
    scope = mkdtempSync(join(tmpdir(), 'symphony-container-rt-'));
    driver = new ContainerDriver({ scope });
  }, 120_000);

  afterAll(async () => {
    for (const o of await new ContainerDriver({ scope }).list()) await driver.stop(o, { graceMs: 1000 });
    driver.close();
    rmSync(scope, { recursive: true, force: true });
  });

  const spec = async (id: string, extra: Partial<InstanceSpec> = {}): Promise<InstanceSpec> => {
    const data = join(scope, 'volumes', id);
    mkdirSync(data, { recursive: true });
    return {
      id, service: 'web', release: 'web-0000aaaa', command: '', cwd: '/', env: { GREETING: 'hello', DB: 'postgres://u:p@127.0.0.1:5432/x' },
      port: await freePort(), logDir: join(scope, 'logs'),
      container: { image, containerPort: 3000, mounts: [{ source: data, target: '/data' }] },
      ...extra,
    };
  };

  it('starts a labelled container with an init, its port on 127.0.0.1, env and /data; logs reach the instance log', async () => {
    const s = await spec('web-0000aaaa-0');
    const h = await driver.start(s);
    expect(driver.isAlive(h)).toBe(true);
    expect(await until('first answer', () => get(s.port!))).toBe(`v1 ${s.id}\n`);
    expect(await get(s.port!, '/env?name=GREETING')).toBe('hello');
    expect(await get(s.port!, '/env?name=PORT')).toBe('3000');
    // A loopback address in env names the container itself; it is rewritten to the host gateway.
    expect(await get(s.port!, '/env?name=DB')).toBe('postgres://u:p@host.docker.internal:5432/x');
    expect(await get(s.port!, '/write')).toBe('written');
    expect(readFileSync(join(scope, 'volumes', s.id, 'writes.log'), 'utf8')).toBe(`v1 ${s.id}\n`);
    const info = await engine.docker.getContainer(containerName(scope, s.id)).inspect();
    expect(info.HostConfig.Init).toBe(true);
    expect(info.Config.Labels).toMatchObject({ 'org.symphony.scope': scope, 'org.symphony.service': 'web', 'org.symphony.release': 'web-0000aaaa', 'org.symphony.instance': s.id });
    expect(info.HostConfig.PortBindings?.['3000/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(s.port) }]);
    const log = driver.logFile(s.id);
    expect(log).toBe(join(scope, 'logs', `${s.id}.log`));
    await until('log line', async () => readFileSync(log, 'utf8').includes(`listening v1 ${s.id} on 3000`));
  }, 60_000);

  it('a new driver (a restarted agent) adopts the container by its labels and resumes its log without repeating lines', async () => {
    const id = 'web-0000aaaa-0';
    driver.close();
    const before = readFileSync(driver.logFile(id), 'utf8');
    const adopted = new ContainerDriver({ scope });
    const found = await adopted.list();
    expect(found.map((o) => [o.id, o.service, o.release])).toEqual([[id, 'web', 'web-0000aaaa']]);
    expect(adopted.isAlive(found[0])).toBe(true);
    expect(found[0].port).toBeGreaterThan(0);
    expect(await new ContainerDriver({ scope: scope + '-other' }).list()).toEqual([]);
    await get(found[0].port!, '/db-nothing');
    await sleep(1500);
    const after = readFileSync(adopted.logFile(id), 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after.split('\n').filter((l) => l.startsWith('listening'))).toHaveLength(1);
    // Stopping goes through the engine with the grace period: the app gets SIGTERM from the init and logs it.
    await adopted.stop(found[0], { graceMs: 5000 });
    expect(adopted.isAlive(found[0])).toBe(false);
    expect(await adopted.list()).toEqual([]);
    await expect(engine.docker.getContainer(containerName(scope, id)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(readFileSync(adopted.logFile(id), 'utf8')).toContain(`got SIGTERM ${id}`);
    await adopted.stop(found[0], { graceMs: 1000 });
    adopted.close();
  }, 60_000);

  it('a container that exits is no longer alive, and its last lines are in the log; a new start replaces it', async () => {
    const s = await spec('web-0000aaaa-1', { container: { image, containerPort: 3000, mounts: [], cmd: ['node', '-e', 'console.log("bye"); setTimeout(() => process.exit(3), 300)'] } });
    const h = await driver.start(s);
    await until('exit', async () => !driver.isAlive(h));
    await until('last line', async () => existsSync(driver.logFile(s.id)) && readFileSync(driver.logFile(s.id), 'utf8').includes('bye'));
    const again = await driver.start(await spec('web-0000aaaa-1'));
    expect(driver.isAlive(again)).toBe(true);
    expect(again.pid).not.toBe(h.pid);
    await driver.stop(again, { graceMs: 2000 });
    expect(driver.isAlive(again)).toBe(false);
  }, 60_000);
});
