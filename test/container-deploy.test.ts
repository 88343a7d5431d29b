import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEngine } from '../src/runtime/container/engine.js';
import { LABEL } from '../src/runtime/container/labels.js';
import { freePort } from '../src/util/ports.js';
import { agentStatus } from './fixtures/release-apps/stack.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { ROOT, cleanup, stackDir, symphony } from './helpers/cli.js';

// A container service behind a route, through the real CLI, agent, router and dockerd:
// blue-green of a changed image under load, a no-change plan, the volume kept, rollback.
const FIXTURE = resolve(__dirname, 'fixtures/container-app');
let dir: string;
let state: string;
let port: number;

const setVersion = (v: string): void => {
  const file = join(dir, 'web', 'Dockerfile');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/ENV APP_VERSION=\S+/, `ENV APP_VERSION=${v}`));
};

async function containersOf(scope: string): Promise<Array<{ instance: string; release: string }>> {
  const engine = await requireEngine();
  const list = await engine.docker.listContainers({ filters: { label: [`${LABEL.scope}=${scope}`] } });
  return list.map((c) => ({ instance: c.Labels[LABEL.instance], release: c.Labels[LABEL.release] })).sort((a, b) => a.instance.localeCompare(b.instance));
}

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({
    'symphony.yaml': `name: ctr
runtime: container
services:
  web:
    image: { build: ./web }
    port: 3000
    replicas: 2
    volume: uploads
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 2s, grace: 3s, warm: 60s }
routes:
  - { listen: ${port}, to: web }
`,
  });
  cpSync(FIXTURE, join(dir, 'web'), { recursive: true });
  state = join(dir, '.symphony');
}, 30_000);

afterAll(async () => {
  await symphony(['destroy', '--yes'], { cwd: dir });
  await cleanup(state);
});

describe('container service behind a route', () => {
  it('applies: 2 labelled containers answer through the router, and write to the volume on the host', async () => {
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const s = await agentStatus(state);
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.instances).toHaveLength(2);
    expect(web.instances.every((i) => i.alive && i.release === web.release)).toBe(true);
    expect((await containersOf(state)).map((c) => c.release)).toEqual([web.release, web.release]);
    const answers = new Set<string>();
    for (let i = 0; i < 20; i++) answers.add((await get(`http://127.0.0.1:${port}/`)).body.trim());
    expect([...answers].sort()).toEqual(web.instances.map((i) => `v1 ${i.id}`).sort());
    expect((await get(`http://127.0.0.1:${port}/write`)).body).toBe('written');
    expect(readFileSync(join(state, 'volumes', 'default', 'uploads', 'writes.log'), 'utf8')).toMatch(/^v1 web-[0-9a-f]{8}-\d\n$/);
    const logs = await symphony(['logs', 'web'], { cwd: dir });
    expect(logs.stdout).toContain('listening v1 web-');
    // Same Dockerfile and context: the same image, so the same release and nothing to do.
    const again = await symphony(['plan', '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).changes.filter((c: { action: string }) => c.action !== 'none')).toEqual([]);
  }, 120_000);

  it('blue-green of a changed image under load: 0 failed requests, the volume kept; rollback to the warm release: 0 failed', async () => {
    const before = (await agentStatus(state)).services.find((x) => x.name === 'web')!.release;
    setVersion('v2');
    const plan = await symphony(['plan', '--json'], { cwd: dir });
    const change = JSON.parse(plan.stdout).changes.find((c: { service: string }) => c.service === 'web');
    expect(change.action).toBe('replace');
    expect(change.reasons.join(' ')).toMatch(/^image changed \([0-9a-f]{12} -> [0-9a-f]{12}\)$/);
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 3, fresh: 2 }).start();
    await load.flowing();
    try {
      const r = await symphony(['apply', '--yes'], { cwd: dir });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      await load.flowing();
      expect((await get(`http://127.0.0.1:${port}/`)).body.startsWith('v2 ')).toBe(true);
      const after = (await agentStatus(state)).services.find((x) => x.name === 'web')!;
      expect(after.release).not.toBe(before);
      // The old release stays warm (running, no traffic) for the rollback.
      expect(new Set((await containersOf(state)).map((c) => c.release))).toEqual(new Set([before, after.release]));
      expect((await get(`http://127.0.0.1:${port}/writes`)).body).toMatch(/^v1 web-/);
      const back = await symphony(['rollback', 'web'], { cwd: dir });
      expect(back.code, back.stderr + back.stdout).toBe(0);
      await load.flowing();
      expect((await get(`http://127.0.0.1:${port}/`)).body.startsWith('v1 ')).toBe(true);
    } finally {
      const report = await load.stop();
      expect(report.failed, report.failures.join('\n')).toBe(0);
      expect(report.versions.v1).toBeGreaterThan(0);
      expect(report.versions.v2).toBeGreaterThan(0);
    }
  }, 150_000);
});

describe('container supervision and adoption', () => {
  it('symphony image base node reports the base image', async () => {
    const r = await symphony(['image', 'base', 'node', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tag: `symphony/node:${process.versions.node.split('.')[0]}`, id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), built: false });
  });

  it('a container whose PID 1 is killed is restarted by the supervisor; kill -9 of the agent: the next one adopts running containers and removes an orphan', async () => {
    const web = async () => (await agentStatus(state)).services.find((x) => x.name === 'web')!;
    const victim = (await web()).instances.find((i) => i.role === 'live')!;
    process.kill(victim.pid!, 'SIGKILL');
    let back = victim;
    for (let i = 0; i < 150 && (back.pid === victim.pid || !back.alive); i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = (await web()).instances.find((x) => x.id === victim.id)!;
    }
    expect(back.alive).toBe(true);
    expect(back.pid).not.toBe(victim.pid);
    expect(back.restarts).toBe(victim.restarts + 1);
    expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(200);
    // An orphan: a container of this state dir that no record claims.
    const { ContainerDriver } = await import('../src/runtime/container/driver.js');
    const stray = new ContainerDriver({ scope: state });
    const image = (await requireEngine().then((e) => e.docker.listContainers({ filters: { label: [`${LABEL.scope}=${state}`] } })))[0].Image;
    await stray.start({ id: 'web-0badc0de-0', service: 'web', release: 'web-0badc0de', command: '', cwd: '/', env: {}, port: await freePort(), logDir: join(state, 'logs'), container: { image, containerPort: 3000, mounts: [] } });
    stray.close();
    const running = (await web()).instances.filter((i) => i.alive).map((i) => [i.id, i.pid]);
    process.kill(Number(readFileSync(join(state, 'agent.pid'), 'utf8')), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    // The CLI starts a new agent, which recovers before it answers status.
    const st = await symphony(['status', '--json'], { cwd: dir });
    expect(st.code, st.stderr).toBe(0);
    const after = await web();
    expect(after.instances.filter((i) => i.alive).map((i) => [i.id, i.pid])).toEqual(running);
    expect((await containersOf(state)).map((c) => c.instance)).not.toContain('web-0badc0de-0');
    const events = JSON.parse((await symphony(['events', '--json', '-n', '200'], { cwd: dir })).stdout).events as Array<{ kind: string }>;
    expect(events.filter((e) => e.kind === 'instance-died')).toEqual([]);
  }, 60_000);
});

/** Copy a package and everything it depends on (hoisted node_modules) into `dest/node_modules`. */
function copyClosure(name: string, dest: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const from = join(ROOT, 'node_modules', name);
  cpSync(from, join(dest, 'node_modules', name), { recursive: true, dereference: true });
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies ?? {})) copyClosure(dep, dest, seen);
}

describe('a container writes to the stack\'s process-runtime postgres', () => {
  let pdir: string;
  let pstate: string;

  beforeAll(() => {
    pdir = stackDir({
      'symphony.yaml': `name: ctrdb
services:
  db:
    postgres: { version: "15" }
    volume: db-data
  api:
    image: { build: ./api }
    port: 3000
    env: { DATABASE_URL: "\${db.url}" }
    health: { http: /healthz, interval: 100ms }
    listens: true
`,
    });
    cpSync(FIXTURE, join(pdir, 'api'), { recursive: true });
    copyClosure('pg', join(pdir, 'api'));
    pstate = join(pdir, '.symphony');
  });

  afterAll(async () => {
    await symphony(['destroy', '--yes'], { cwd: pdir });
    await cleanup(pstate);
  });

  it('${db.url} names the host gateway inside the container, and its writes are rows of the server', async () => {
    const r = await symphony(['apply', '--yes'], { cwd: pdir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const api = (await agentStatus(pstate)).services.find((x) => x.name === 'api')!.instances[0];
    const base = `http://127.0.0.1:${api.port}`;
    expect((await get(`${base}/env?name=DATABASE_URL`)).body).toMatch(/^postgres:\/\/ctrdb:[^@]+@host\.docker\.internal:\d+\/ctrdb/);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const w = await get(`${base}/db?name=${name}`);
      expect(w.status, w.body).toBe(200);
      ids.push(w.body);
    }
    const url = (await symphony(['output', 'db.url', '--reveal', '--yes'], { cwd: pdir })).stdout.trim();
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query('SELECT id::text, name, version FROM container_writes ORDER BY id')).rows;
      expect(rows).toEqual(ids.map((id, i) => ({ id, name: ['a', 'b', 'c'][i], version: 'v1' })));
    } finally {
      await client.end();
    }
  }, 150_000);
});
