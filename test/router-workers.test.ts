import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
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
import { freePort } from '../src/util/ports.js';

/** The router with 2 worker processes (node:cluster): the behaviours that cross processes. */
let dir: string;
let router: { socketPath: string; close(): Promise<void> };
let client: RouterClient;
let metricsPort: number;
let blue: UpstreamApp;
let green: UpstreamApp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'symphony-router-workers-'));
  metricsPort = await freePort();
  router = await startRouter({ dir, metricsPort, healthIntervalMs: 200, workers: 2 });
  client = new RouterClient(router.socketPath);
  blue = await startUpstreamApp('blue');
  green = await startUpstreamApp('green');
}, 40_000);
afterAll(async () => {
  await router?.close();
  await Promise.all([blue?.close(), green?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** One request on a new connection: the primary hands connections to the workers in turn. */
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

const workerPids = (): number[] => Object.values(cluster.workers ?? {}).flatMap((w) => (w && !w.isDead() ? [w.process.pid ?? 0] : []));

async function waitFor(check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${limitMs} ms: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('router with 2 worker processes', () => {
  it('serves from both workers and sums their counters in stats and metrics', async () => {
    expect(workerPids()).toHaveLength(2);
    const port = await freePort();
    await client.setRoute(route('sum', port, [backend('blue', 100, [blue])]));
    const answers = await Promise.all(Array.from({ length: 40 }, () => fresh(port)));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    const stats = await client.stats();
    expect(stats.routes.find((r) => r.id === 'sum')?.releases[0]).toMatchObject({ requests: 40, errors: 0, windowRequests: 40, inFlight: 0 });
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain('symphony_router_requests_total{route="sum",release="blue",code="2xx"} 40');
    expect(text).toContain('symphony_router_request_duration_seconds_count{route="sum",release="blue"} 40');
  });

  it('switches releases in every worker under load with every response 200, and drains across workers', async () => {
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

  it('holds requests in every worker while paused and counts them all on resume', async () => {
    const port = await freePort();
    await client.setRoute(route('held', port, [backend('blue', 100, [blue])]));
    await client.pause('held', 30_000);
    const held = Array.from({ length: 6 }, () => fresh(port, '/held-by-workers'));
    await waitFor(async () => (await client.stats()).routes.find((r) => r.id === 'held')?.paused === true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(blue.hits.get('/held-by-workers') ?? 0).toBe(0);
    expect(await client.resume('held')).toBe(6);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual(Array(6).fill(200));
  });

  it('closes an SSE stream held by a worker on closeLongLived', async () => {
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

  it('replaces a killed worker and gives it the current config', async () => {
    const port = await freePort();
    await client.setRoute(route('heal', port, [backend('blue', 100, [blue])]));
    const [victim] = workerPids();
    process.kill(victim, 'SIGKILL');
    await waitFor(() => workerPids().length === 2 && !workerPids().includes(victim));
    await waitFor(async () => (await readFile(join(dir, 'router.log'), 'utf8')).includes('router worker replaced'));
    // A connection accepted by the dying worker may be reset: that attempt counts as not ready yet.
    await waitFor(async () => Promise.all(Array.from({ length: 6 }, () => fresh(port))).then((all) => all.every((a) => a.body === 'blue'), () => false));
    await client.setRoute(route('heal', port, [backend('green', 100, [green])]));
    const answers = await Promise.all(Array.from({ length: 12 }, () => fresh(port)));
    expect(answers.map((a) => a.body)).toEqual(Array(12).fill('green'));
  });

  it('takes its workers down with it when killed, and restores its routes on restart', async () => {
    const own = await mkdtemp(join(tmpdir(), 'symphony-router-workers-kill-'));
    const port = await freePort();
    const ownClient = new RouterClient(join(own, 'router.sock'));
    const spawnRouter = () =>
      spawn(process.execPath, ['--import', 'tsx', 'src/router/main.ts', own], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SYMPHONY_ROUTER_WORKERS: '2' } });
    let child = spawnRouter();
    try {
      await waitFor(() => ownClient.ping().then(() => true, () => false), 40_000);
      await ownClient.setRoute(route('kept', port, [backend('blue', 100, [blue])]));
      expect((await fresh(port)).body).toBe('blue');
      const children = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).split(' ').filter(Boolean).map(Number);
      expect(children).toHaveLength(2);
      child.kill('SIGKILL');
      await waitFor(() => children.every((pid) => !pidAlive(pid)));
      await expect(fresh(port)).rejects.toThrow(/ECONNREFUSED/);
      child = spawnRouter();
      await waitFor(() => fresh(port).then((a) => a.body === 'blue', () => false), 40_000);
    } finally {
      child.kill('SIGKILL');
      await rm(own, { recursive: true, force: true });
    }
  }, 60_000);
});
