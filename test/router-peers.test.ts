import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterClient } from '../src/router/client.js';
import { startRouter } from '../src/router/daemon.js';
import { backend, route, type Answer } from '../src/router/testing/harness.js';
import { startUpstreamApp, type UpstreamApp } from '../src/router/testing/upstream-app.js';
import { pidAlive } from '../src/util/pid.js';
import { LOAD_CONCURRENCY, startLoad } from './helpers/load.js';
import { freePort } from '../src/util/ports.js';

/** The router as 2 peer processes (a leader and a follower on the same sockets): the behaviours that cross processes. */
let dir: string;
let router: { socketPath: string; close(): Promise<void> };
let client: RouterClient;
let metricsPort: number;
let blue: UpstreamApp;
let green: UpstreamApp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'symphony-router-peers-'));
  metricsPort = await freePort();
  router = await startRouter({ dir, metricsPort, healthIntervalMs: 200, peers: 2 });
  client = new RouterClient(router.socketPath);
  blue = await startUpstreamApp('blue');
  green = await startUpstreamApp('green');
}, 40_000);
afterAll(async () => {
  await router?.close();
  await Promise.all([blue?.close(), green?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** One request on a new connection (the kernel gives each new connection to one of the peers). */
function fresh(port: number, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The follower pids the leader reports (the leader is this test process). */
const followerPids = async (): Promise<number[]> => (await client.ping()).peers.slice(1);

async function waitFor(check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${limitMs} ms: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('router as 2 peer processes', () => {
  it('serves from both peers and sums their counters in stats and metrics', async () => {
    await waitFor(async () => (await followerPids()).length === 1);
    const ping = await client.ping();
    expect(ping.pid).toBe(process.pid);
    expect(ping.peers).toHaveLength(2);
    const port = await freePort();
    await client.setRoute(route('sum', port, [backend('blue', 100, [blue])]));
    const answers = await Promise.all(Array.from({ length: 40 }, () => fresh(port)));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    const stats = await client.stats();
    expect(stats.routes.find((r) => r.id === 'sum')?.releases[0]).toMatchObject({ requests: 40, errors: 0, windowRequests: 40, inFlight: 0 });
    // Cumulative totals for exporters: summed over both peers, a bucket count per bound, +Inf = requests.
    const totals = stats.totals.find((t) => t.route === 'sum' && t.release === 'blue');
    expect(totals).toMatchObject({ requests: 40, byCode: { '2xx': 40 } });
    expect(totals!.buckets).toHaveLength(stats.latencyBucketsS.length);
    expect(totals!.buckets.reduce((a, b) => a + b, 0)).toBe(40);
    expect(totals!.latencySumS).toBeGreaterThan(0);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain('symphony_router_requests_total{route="sum",release="blue",code="2xx"} 40');
    expect(text).toContain('symphony_router_request_duration_seconds_count{route="sum",release="blue"} 40');
  });

  it('switches releases in every peer under load with every response 200, and drains across peers', async () => {
    const port = await freePort();
    const only = (release: 'blue' | 'green') => route('flip', port, [backend('blue', release === 'blue' ? 100 : 0, [blue]), backend('green', release === 'green' ? 100 : 0, [green])]);
    await client.setRoute(only('blue'));
    const slow = fresh(port, '/slow?ms=8000');
    const blueInFlight = async (): Promise<number | undefined> =>
      (await client.stats()).routes.find((r) => r.id === 'flip')?.releases.find((r) => r.release === 'blue')?.inFlight;
    await waitFor(async () => (await blueInFlight()) === 1);
    let running = true;
    const statuses: number[] = [];
    const loop = async (): Promise<void> => {
      while (running) statuses.push((await fresh(port)).status);
    };
    const loops = Array.from({ length: 4 }, loop);
    try {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 40));
        await client.setRoute(only(i % 2 === 0 ? 'green' : 'blue'));
      }
      await client.setRoute(route('flip', port, [backend('green', 100, [green])]));
    } finally {
      running = false;
      await Promise.allSettled(loops);
    }
    // Once the loops' last requests are answered, only the slow request is still in flight on blue.
    expect(await blueInFlight()).toBe(1);
    await Promise.all(loops);
    const after = await Promise.all(Array.from({ length: 10 }, () => fresh(port)));
    expect(after.map((a) => a.body)).toEqual(Array(10).fill('green'));
    expect((await slow).body).toBe('blue slow 8000\n');
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('holds requests in every peer while paused and counts them all on resume', async () => {
    const port = await freePort();
    await client.setRoute(route('held', port, [backend('blue', 100, [blue])]));
    await client.pause('held', 30_000);
    const held = Array.from({ length: 6 }, () => fresh(port, '/held-by-peers'));
    await waitFor(async () => (await client.stats()).routes.find((r) => r.id === 'held')?.paused === true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(blue.hits.get('/held-by-peers') ?? 0).toBe(0);
    expect(await client.resume('held')).toBe(6);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual(Array(6).fill(200));
  });

  it('a follower that replaces a killed one while a route is paused holds its requests too', async () => {
    const port = await freePort();
    await client.setRoute(route('held-new', port, [backend('blue', 100, [blue])]));
    await client.pause('held-new', 30_000);
    const [victim] = await followerPids();
    process.kill(victim, 'SIGKILL');
    await waitFor(async () => {
      const f = await followerPids();
      return f.length === 1 && f[0] !== victim;
    });
    // New connections go to either process; none may reach the app before resume.
    const held = Array.from({ length: 20 }, () => fresh(port, '/held-by-new-follower'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(blue.hits.get('/held-by-new-follower') ?? 0).toBe(0);
    expect(await client.resume('held-new')).toBe(20);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual(Array(20).fill(200));
  });

  it('closes an SSE stream held by a follower on closeLongLived', async () => {
    const port = await freePort();
    await client.setRoute(route('sse', port, [backend('blue', 100, [blue])]));
    const res = await new Promise<IncomingMessage>((resolve, reject) => request({ host: '127.0.0.1', port, path: '/sse', agent: false }, resolve).on('error', reject).end());
    let ended = false;
    res.resume();
    res.on('end', () => (ended = true));
    await waitFor(async () => (await client.stats()).routes.find((r) => r.id === 'sse')?.releases[0].longLived === 1);
    expect(await client.closeLongLived('blue')).toBe(1);
    await waitFor(() => ended);
  });

  it('replaces a killed follower, gives it the current ports and config, and serves throughout', async () => {
    const port = await freePort();
    await client.setRoute(route('heal', port, [backend('blue', 100, [blue])]));
    const [victim] = await followerPids();
    const load = startLoad(port);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim, 'SIGKILL');
    await waitFor(async () => {
      const f = await followerPids();
      return f.length === 1 && !f.includes(victim);
    });
    expect((await client.ping()).followersReplaced).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 300));
    const { ok, failed, answered } = await load.stop();
    process.stdout.write(`follower killed under load: ${failed} failed of ${ok + failed}\n`);
    // Only requests on connections the killed follower had accepted can fail: lost
    // connections, never an answer (the new follower knows the routes before it accepts).
    expect(answered).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(failed).toBeLessThanOrEqual(LOAD_CONCURRENCY);
    await client.setRoute(route('heal', port, [backend('green', 100, [green])]));
    const answers = await Promise.all(Array.from({ length: 12 }, () => fresh(port)));
    expect(answers.map((a) => a.body)).toEqual(Array(12).fill('green'));
  });

  it('keeps serving when the leader is killed: the follower takes over the control socket, the config and a new follower', async () => {
    const own = await mkdtemp(join(tmpdir(), 'symphony-router-peers-kill-'));
    const port = await freePort();
    const ownClient = new RouterClient(join(own, 'router.sock'));
    const spawnRouter = () => spawn(process.execPath, ['--import', 'tsx', 'src/router/main.ts', own], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SYMPHONY_ROUTER_PEERS: '2' } });
    const child = spawnRouter();
    let pids: number[] = [];
    try {
      await waitFor(() => ownClient.ping().then((p) => p.peers.length === 2, () => false), 40_000);
      await ownClient.setRoute(route('kept', port, [backend('blue', 100, [blue])]));
      const before = await ownClient.getConfig();
      const first = await ownClient.ping();
      const load = startLoad(port);
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await waitFor(() => ownClient.ping().then((p) => p.pid === first.peers[1], () => false));
      const tookOverMs = Date.now() - killedAt;
      await waitFor(() => ownClient.ping().then((p) => p.peers.length === 2, () => false));
      await new Promise((r) => setTimeout(r, 300));
      const { ok, failed, answered } = await load.stop();
      expect(answered).toEqual([]);
      process.stdout.write(`leader killed under load: ${failed} failed of ${ok + failed}; follower led after ${tookOverMs} ms\n`);
      expect(ok).toBeGreaterThan(50);
      expect(failed).toBeLessThanOrEqual(LOAD_CONCURRENCY);
      const now = await ownClient.ping();
      pids = now.peers;
      expect(now.takeovers).toBe(1);
      expect(await ownClient.getConfig()).toEqual(before);
      await ownClient.setRoute(route('kept', port, [backend('green', 100, [green])]));
      expect((await Promise.all(Array.from({ length: 8 }, () => fresh(port)))).map((a) => a.body)).toEqual(Array(8).fill('green'));
      // Every router process gone (a power cut): a new router restores the routes from disk.
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await waitFor(() => pids.every((pid) => !pidAlive(pid)));
      await expect(fresh(port)).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
      const again = spawnRouter();
      try {
        await waitFor(() => fresh(port).then((a) => a.body === 'green', () => false), 40_000);
        pids = (await ownClient.ping()).peers;
      } finally {
        again.kill('SIGKILL');
      }
    } finally {
      child.kill('SIGKILL');
      for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      await rm(own, { recursive: true, force: true });
    }
  }, 90_000);

  it('a follower whose leader is gone while another process leads stops instead of leading twice', async () => {
    const own = await mkdtemp(join(tmpdir(), 'symphony-router-peers-twice-'));
    const ownClient = new RouterClient(join(own, 'router.sock'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/router/main.ts', own], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SYMPHONY_ROUTER_PEERS: '2' } });
    try {
      await waitFor(() => ownClient.ping().then((p) => p.peers.length === 2, () => false), 40_000);
      const { peers } = await ownClient.ping();
      // A second leader on the same dir is refused while the first one lives.
      await expect(startRouter({ dir: own })).rejects.toMatchObject({ code: 'router_running' });
      process.kill(peers[0], 'SIGKILL');
      await waitFor(() => ownClient.ping().then((p) => p.pid === peers[1], () => false));
      expect(pidAlive(peers[0])).toBe(false);
      // The directory is deleted (its state dir destroyed): every router process exits by itself.
      const all = (await ownClient.ping()).peers;
      await rm(own, { recursive: true, force: true });
      await waitFor(() => all.every((pid) => !pidAlive(pid)), 15_000);
    } finally {
      child.kill('SIGKILL');
      await rm(own, { recursive: true, force: true });
    }
  }, 60_000);
});
