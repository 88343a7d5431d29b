import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterClient } from '../src/router/client.js';
import { backend, get, route, startHarness, type RouterHarness } from '../src/router/testing/harness.js';
import { startUpstreamApp, type UpstreamApp } from '../src/router/testing/upstream-app.js';
import { freePort } from '../src/util/ports.js';

let h: RouterHarness;
let blue: UpstreamApp;

beforeAll(async () => {
  h = await startHarness();
  blue = await h.app('blue');
});
afterAll(async () => {
  await h?.close();
});

function spawnRouter(dir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/router/main.ts', dir], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
}

async function ready(client: RouterClient): Promise<{ pid: number; version: number }> {
  for (let i = 0; i < 600; i++) {
    try {
      return await client.ping();
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('router did not answer on its socket within 30 s');
}

describe('router daemon', () => {
  it('restores its routes from disk after being killed with SIGKILL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'symphony-router-restart-'));
    const app = await startUpstreamApp('restored');
    const port = await freePort();
    const client = new RouterClient(join(dir, 'router.sock'));
    let child = spawnRouter(dir);
    try {
      const first = await ready(client);
      expect((await stat(join(dir, 'router.sock'))).mode & 0o777).toBe(0o600);
      await client.setRoute(route('web', port, [backend('restored', 100, [app])], { pathPrefix: '/', timeoutMs: 5000 }));
      expect((await get(port, '/')).body).toBe('restored');
      const before = await client.getConfig();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await expect(get(port, '/')).rejects.toThrow(/ECONNREFUSED/);

      child = spawnRouter(dir);
      const second = await ready(client);
      expect(second.pid).not.toBe(first.pid);
      expect(await client.getConfig()).toEqual(before);
      expect((await get(port, '/')).body).toBe('restored');
    } finally {
      child.kill('SIGKILL');
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start a second router on the same directory', async () => {
    const { startRouter } = await import('../src/router/daemon.js');
    await expect(startRouter({ dir: h.dir })).rejects.toMatchObject({ code: 'router_running' });
  });

  it('holds requests on a paused route until resume, then serves them', async () => {
    const port = await freePort();
    await h.client.setRoute(route('paused', port, [backend('blue', 100, [blue])]));
    await h.client.pause('paused', 30_000);
    const before = blue.hits.get('/held') ?? 0;
    let answeredAt = 0;
    const held = get(port, '/held').finally(() => (answeredAt = Date.now()));
    await new Promise((r) => setTimeout(r, 300));
    expect(blue.hits.get('/held') ?? 0).toBe(before);
    expect((await h.client.stats()).routes.find((r) => r.id === 'paused')?.paused).toBe(true);
    expect(answeredAt, 'answered while the route was paused').toBe(0);
    const resumedAt = Date.now();
    await h.client.resume('paused');
    const a = await held;
    expect(answeredAt).toBeGreaterThanOrEqual(resumedAt);
    expect(a.status).toBe(200);
    expect(blue.hits.get('/held')).toBe(before + 1);
  });

  it('lets held requests proceed when the pause times out', async () => {
    const port = await freePort();
    await h.client.setRoute(route('expires', port, [backend('blue', 100, [blue])]));
    // The router starts the 1 s after pausedAt, so the pause ends at pausedAt + 1 s or later.
    const pausedAt = Date.now();
    await h.client.pause('expires', 1000);
    const sentAt = Date.now();
    expect(sentAt, 'the request must be sent while the route is still paused').toBeLessThan(pausedAt + 1000);
    const a = await get(port, '/');
    const answeredAt = Date.now();
    expect(a.status).toBe(200);
    expect(answeredAt - pausedAt, 'answered before the pause timed out').toBeGreaterThanOrEqual(1000);
    expect(answeredAt - sentAt, 'held for much longer than the pause').toBeLessThan(1000 + 1500);
    expect((await h.client.stats()).routes.find((r) => r.id === 'expires')?.paused).toBe(false);
    await expect(h.client.pause('nope', 100)).rejects.toMatchObject({ code: 'route_not_found' });
  });

  it('exports Prometheus counters that match the requests sent', async () => {
    const port = await freePort();
    await h.client.setRoute(route('metered', port, [backend('blue', 100, [blue])]));
    for (let i = 0; i < 20; i++) expect((await get(port, '/')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(port, '/fail')).status).toBe(500);
    const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('symphony_router_requests_total{route="metered",release="blue",code="2xx"}')).toBe(20);
    expect(value('symphony_router_requests_total{route="metered",release="blue",code="5xx"}')).toBe(5);
    expect(value('symphony_router_errors_total{route="metered",release="blue"}')).toBe(5);
    expect(value('symphony_router_request_duration_seconds_count{route="metered",release="blue"}')).toBe(25);
    expect(value('symphony_router_request_duration_seconds_bucket{le="+Inf",route="metered",release="blue"}')).toBe(25);
    expect(value('symphony_router_in_flight{route="metered",release="blue"}')).toBe(0);
    const stats = await h.client.stats();
    const blueStats = stats.routes.find((r) => r.id === 'metered')?.releases[0];
    expect(blueStats).toMatchObject({ requests: 25, errors: 5, windowRequests: 25, windowErrors: 5 });
    expect(blueStats?.p99Ms).toBeGreaterThanOrEqual(blueStats?.p50Ms ?? Infinity);
  });
});
