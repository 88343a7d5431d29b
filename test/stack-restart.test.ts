import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { EventRecord } from '../src/state/types.js';
import { run } from '../src/util/exec.js';
import { pidAlive } from '../src/util/pid.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A power cut: every process of a stack with postgres, a 3-member etcd and two app
// replicas killed at once. The boot unit `symphony agent install` writes starts the agent,
// and the agent brings the stack back as recorded.
let dir: string;
let state: string;
let port: number;
let root: string;

const stack = (p: number): string => `name: restart
services:
  db:
    postgres: { version: "15" }
    volume: restart-db
  kv:
    etcd: { version: "3.4", members: 3 }
    volume: restart-kv
  api:
    run: node server.mjs
    dir: ./api
    replicas: 2
    env:
      DATABASE_URL: "\${db.url}"
      KV_ENDPOINTS: "\${kv.endpoints}"
    health: { http: /healthz, interval: 200ms }
routes:
  - { listen: ${p}, to: api }
`;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(port), ...appFiles('api') });
  state = join(dir, '.symphony');
  root = mkdtempSync(join(tmpdir(), 'symphony-boot-root-'));
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await cleanup(state);
  rmSync(root, { recursive: true, force: true });
});

const status = async (): Promise<EnvStatus> => json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
const etcdctl = (endpoints: string, ...args: string[]) => run('etcdctl', [`--endpoints=${endpoints}`, '--command-timeout=5s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 20_000 });
const answers = (): Promise<boolean> => fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);

/** Pids of every process whose command line or environment names `path`. */
function processesNaming(path: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path) || readFileSync(`/proc/${pid}/environ`, 'utf8').includes(path)) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found.filter((pid) => pid !== process.pid);
}

function killHard(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // not a group leader, or gone
    }
  }
}

describe('a stack after every process was killed', () => {
  it('comes back from the boot unit: postgres with its rows, etcd healthy with its keys, the route answering, in boot order', async () => {
    const url = (await symphony(['output', 'db.url', '--reveal', '--yes'], { cwd: dir })).stdout.trim();
    const before = await status();
    const endpoints = before.services.find((s) => s.name === 'kv')!.endpoints!.join(',');
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)');
    await db.query(`INSERT INTO orders (item) SELECT 'item ' || g FROM generate_series(1, 500) g`);
    await db.end();
    expect((await etcdctl(endpoints, 'put', 'survives', 'the power cut')).code).toBe(0);

    // The boot unit, written under a test root (a plain init script: no systemd here).
    const installed = json<{ file: string; kind: string; enabled: boolean }>(await symphony(['agent', 'install', '--init', '--root', root, '--json'], { cwd: dir }));
    expect(installed).toMatchObject({ kind: 'init', enabled: false });
    expect(installed.file.startsWith(join(root, 'etc/init.d/symphony-agent-'))).toBe(true);

    // The power cut: agent, both router processes, every instance with its children.
    const pids = [before.agent!.pid, ...before.router!.peers, ...before.services.flatMap((s) => s.instances.map((i) => i.pid!))];
    for (const pid of pids) killHard(pid);
    for (const pid of processesNaming(state)) killHard(pid);
    for (let i = 0; i < 100 && processesNaming(state).length > 0; i++) await sleep(50);
    expect(processesNaming(state)).toEqual([]);
    expect(await answers()).toBe(false);

    const started = Date.now();
    const boot = await run(installed.file, ['start'], { timeoutMs: 30_000 });
    expect(boot.code, boot.stderr).toBe(0);
    expect(boot.stdout).toMatch(/symphony-agent-\w+: started \(pid \d+\)/);
    for (let i = 0; i < 1800 && !(await answers()); i++) await sleep(100);
    const backMs = Date.now() - started;
    process.stdout.write(`every process of the stack killed: the route answered ${backMs} ms after the boot unit started the agent\n`);
    expect(await answers()).toBe(true);

    const after = await status();
    for (const s of after.services) for (const i of s.instances.filter((x) => x.role === 'live')) expect([s.name, i.alive, i.health]).toEqual([s.name, true, 'healthy']);
    expect(after.router).toMatchObject({ running: true });
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    expect((await again.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(500);
    await again.end();
    const health = await etcdctl(endpoints, 'endpoint', 'health');
    expect(health.code, health.stderr).toBe(0);
    expect((await etcdctl(endpoints, 'get', 'survives', '--print-value-only')).stdout.trim()).toBe('the power cut');

    // Stateful services first in dependency order, then the app, then the router.
    const events = json<{ events: EventRecord[] }>(await symphony(['events', '--json', '-n', '500'], { cwd: dir })).events;
    const restored = events.filter((e) => e.kind === 'boot-restored').map((e) => e.service);
    expect(restored).toEqual(['db', 'kv', 'api']);
    const order = events.filter((e) => ['boot-restored', 'router-restarted'].includes(e.kind)).map((e) => e.kind);
    expect(order.at(-1)).toBe('router-restarted');
    expect(pidAlive(after.agent!.pid)).toBe(true);
    const st = await run(installed.file, ['status'], { timeoutMs: 10_000 });
    expect(st.stdout).toContain(`running (pid ${after.agent!.pid})`);
  }, 240_000);
});
