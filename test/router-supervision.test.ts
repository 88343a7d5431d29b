import { createServer, type Server } from 'node:net';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { EventRecord } from '../src/state/types.js';
import { pidAlive } from '../src/util/pid.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { LOAD_CONCURRENCY, startLoad } from './helpers/load.js';

// The router as the agent runs it (a leader and a follower on the same sockets), under
// load through a route to two app replicas: every way its processes can die, and the agent
// bringing it back.
let dir: string;
let state: string;
let port: number;

const stack = (p: number): string => `name: watched
services:
  api:
    run: node server.mjs
    dir: ./api
    replicas: 2
    deploy: { drain: 300ms, grace: 1s }
routes:
  - { listen: ${p}, to: api }
`;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(port), ...appFiles('api') });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cleanup(state);
});

const status = async (): Promise<EnvStatus> => json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
const events = async (kind: string): Promise<EventRecord[]> => json<{ events: EventRecord[] }>(await symphony(['events', '--json', '--kind', kind], { cwd: dir })).events;
const answers = (p = port): Promise<boolean> => fetch(`http://127.0.0.1:${p}/`).then((r) => r.ok, () => false);

async function waitFor<T>(what: string, check: () => Promise<T | null | false>, limitMs = 20_000): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(20);
  }
}

const kill = (pid: number): void => void process.kill(pid, 'SIGKILL');

describe('the agent supervises the router', () => {
  it('status shows the agent and the router: pids, uptime, both router processes, restarts', async () => {
    const s = await waitFor('two router processes', async () => {
      const st = await status();
      return st.router?.peers.length === 2 ? st : null;
    });
    expect(s.agent?.pid).toBeGreaterThan(0);
    expect(pidAlive(s.agent!.pid)).toBe(true);
    expect(s.router).toMatchObject({ running: true, routes: 1, restarts: 0 });
    expect(s.router!.listeners).toEqual([{ route: expect.stringMatching(/^default:/), listen: port, answers: true, problem: null }]);
    const text = (await symphony(['status'], { cwd: dir })).stdout;
    expect(text).toMatch(new RegExp(`agent: pid ${s.agent!.pid}, up \\d+ s`));
    expect(text).toMatch(new RegExp(`router: pid ${s.router!.pid}, up \\d+ s, processes ${s.router!.peers.join(',')}, 1 route\\(s\\), restarts 0`));
  });

  it('under load, kill -9 of the router leader costs only its own requests; its follower leads within 1 s', async () => {
    const before = (await status()).router!;
    const load = startLoad(port);
    await sleep(500);
    const killedAt = Date.now();
    kill(before.pid!);
    const led = await waitFor('a new leader', async () => {
      const s = await status();
      return s.router?.running && s.router.pid !== before.pid ? s.router : null;
    });
    const tookMs = Date.now() - killedAt;
    await sleep(500);
    const { ok, failed, answered } = await load.stop();
    expect(answered, 'only lost connections fail, never a wrong answer').toEqual([]);
    process.stdout.write(`router leader killed under load: ${failed} failed of ${ok + failed}; a new leader answered after ${tookMs} ms\n`);
    expect(led.pid).toBe(before.peers[1]);
    expect(led.takeovers).toBe(before.takeovers + 1);
    expect(ok).toBeGreaterThan(50);
    expect(failed).toBeLessThanOrEqual(LOAD_CONCURRENCY);
    expect(await answers()).toBe(true);
  });

  it('under load, kill -9 of a router follower: the route keeps answering and the follower is replaced', async () => {
    const before = await waitFor('a follower', async () => {
      const r = (await status()).router;
      return r && r.peers.length === 2 ? r : null;
    });
    const load = startLoad(port);
    await sleep(500);
    kill(before.peers[1]);
    const after = await waitFor('a new follower', async () => {
      const r = (await status()).router;
      return r && r.peers.length === 2 && !r.peers.includes(before.peers[1]) ? r : null;
    });
    await sleep(300);
    const { ok, failed, answered } = await load.stop();
    expect(answered, 'only lost connections fail, never a wrong answer').toEqual([]);
    process.stdout.write(`router follower killed under load: ${failed} failed of ${ok + failed}\n`);
    expect(after.pid).toBe(before.pid);
    expect(ok).toBeGreaterThan(50);
    expect(failed).toBeLessThanOrEqual(LOAD_CONCURRENCY);
  });

  it('every router process killed at once: the agent starts the router again with its routes within 1 s, counted and recorded', async () => {
    const before = await waitFor('two router processes', async () => {
      const r = (await status()).router;
      return r?.peers.length === 2 ? r : null;
    });
    for (const pid of before.peers) kill(pid);
    await waitFor('router processes gone', async () => before.peers.every((pid) => !pidAlive(pid)));
    const goneAt = Date.now();
    await waitFor('the route answering', () => answers(), 5000);
    const backMs = Date.now() - goneAt;
    process.stdout.write(`every router process killed: the route answered again ${backMs} ms after they were gone\n`);
    expect(backMs).toBeLessThan(1000);
    const s = (await status()).router!;
    expect(s).toMatchObject({ running: true, restarts: before.restarts + 1 });
    expect(before.peers).not.toContain(s.pid);
    const ev = await events('router-restarted');
    expect(ev.at(-1)?.message).toMatch(/router was not running; started it again \(pid \d+, restart #\d+\) with 1 saved route\(s\)/);
  });

  it('the agent killed while the router is dead: the next agent restores the router', async () => {
    const s = await waitFor('two router processes', async () => {
      const st = await status();
      return st.router?.peers.length === 2 ? st : null;
    });
    kill(s.agent!.pid);
    await waitFor('agent gone', async () => !pidAlive(s.agent!.pid));
    for (const pid of s.router!.peers) kill(pid);
    await waitFor('router gone', async () => s.router!.peers.every((pid) => !pidAlive(pid)));
    await sleep(1500);
    expect(await answers()).toBe(false);
    // Any command starts an agent; that agent finds the router dead and starts it.
    const next = await status();
    expect(next.agent, JSON.stringify(next)).toBeDefined();
    expect(next.agent!.pid).not.toBe(s.agent!.pid);
    await waitFor('the route answering', () => answers(), 5000);
    expect((await status()).router).toMatchObject({ running: true, restarts: s.router!.restarts + 1 });
  });

  it('drift and status report a route whose port the router could not open, until the port is free', async () => {
    const stopped = await symphony(['agent', 'stop', '--router'], { cwd: dir });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/stopped the agent \(pid \d+\) of .*\nstopped the router/);
    const squatter: Server = createServer((c) => c.on('error', () => undefined).end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
    try {
      const problem = `the router could not open port ${port} (another process listens on it)`;
      const s = await waitFor('the listener problem', async () => {
        const st = await status();
        return st.router?.running && st.router.listeners[0]?.problem ? st : null;
      });
      expect(s.router!.listeners[0]).toMatchObject({ listen: port, answers: true, problem });
      expect((await symphony(['status'], { cwd: dir })).stdout).toContain(`on 127.0.0.1:${port}: ${problem}`);
      const drift = await symphony(['drift', '--json'], { cwd: dir });
      expect(drift.code).toBe(2);
      expect(json<{ drift: Array<{ observed: string }> }>(drift).drift.map((d) => d.observed)).toContain(problem);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
    // The router retries the port: the route comes back by itself.
    await waitFor('the route answering', () => answers(), 10_000);
    await waitFor('no drift', async () => (await symphony(['drift'], { cwd: dir })).code === 0, 10_000);
  });
});

/** Pids of processes whose command line or environment names `path`. */
function processesNaming(path: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmd.includes(path) || env.includes(path)) found.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found.filter((pid) => pid !== process.pid);
}

describe('nothing left behind', () => {
  it('destroy leaves no process naming the state dir after 10 s', async () => {
    const p = await freePort();
    const d = stackDir({ 'symphony.yaml': stack(p), ...appFiles('api') });
    const st = join(d, '.symphony');
    try {
      expect((await symphony(['apply', '--yes'], { cwd: d })).code).toBe(0);
      expect(processesNaming(st).length).toBeGreaterThanOrEqual(4); // agent, 2 router processes, 2 replicas
      const r = await symphony(['destroy', '--yes'], { cwd: d });
      expect(r.code, r.stderr).toBe(0);
      await sleep(10_000);
      expect(processesNaming(st)).toEqual([]);
    } finally {
      await cleanup(st);
    }
  }, 60_000);

  it('a stack with no route never starts a router, and its agent exits when the state dir is deleted', async () => {
    const d = stackDir({ 'symphony.yaml': 'name: quiet\nservices:\n  job:\n    run: node job.mjs\n', 'job.mjs': 'setInterval(() => {}, 1000);\n' });
    const st = join(d, '.symphony');
    try {
      expect((await symphony(['apply', '--yes'], { cwd: d })).code).toBe(0);
      const mine = json<EnvStatus>(await symphony(['status', '--json'], { cwd: d }));
      expect(mine.router).toMatchObject({ running: false, routes: 0, peers: [] });
      expect(processesNaming(join(st, 'router'))).toEqual([]);
      const agentPid = mine.agent!.pid;
      expect((await symphony(['destroy', '--yes'], { cwd: d })).code).toBe(0);
      expect((await symphony(['apply', '--yes'], { cwd: d })).code).toBe(0);
      const again = json<EnvStatus>(await symphony(['status', '--json'], { cwd: d })).agent!.pid;
      expect(again).not.toBe(agentPid);
      rmSync(d, { recursive: true, force: true });
      await waitFor('the agent exiting', async () => !pidAlive(again), 10_000);
    } finally {
      await cleanup(st);
    }
  }, 60_000);
});
