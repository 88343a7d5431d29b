import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, get, route, startHarness, type RouterHarness } from '../src/router/testing/harness.js';
import type { UpstreamApp } from '../src/router/testing/upstream-app.js';
import { freePort } from '../src/util/ports.js';

let h: RouterHarness;
let blue: UpstreamApp;
let green: UpstreamApp;

beforeAll(async () => {
  h = await startHarness();
  blue = await h.app('blue');
  green = await h.app('green');
});
afterAll(async () => {
  await h?.close();
});

describe('router: routing and forwarding', () => {
  it('routes by host and path prefix, most specific first, on one port', async () => {
    const port = await freePort();
    const admin = await h.app('admin');
    await h.client.setRoute(route('site', port, [backend('blue', 100, [blue])]));
    await h.client.setRoute(route('api', port, [backend('green', 100, [green])], { pathPrefix: '/api' }));
    await h.client.setRoute(route('admin', port, [backend('admin', 100, [admin])], { host: 'admin.test' }));
    expect((await get(port, '/')).body).toBe('blue');
    expect((await get(port, '/api/users')).body).toBe('green');
    expect((await get(port, '/apiary')).body).toBe('blue');
    expect((await get(port, '/api/users', { host: 'Admin.test:80' })).body).toBe('admin');
    await h.client.removeRoute('site');
    const miss = await get(port, '/other');
    expect(miss.status).toBe(404);
    expect(miss.body).toContain(`no route on port ${port}`);
  });

  it('sets X-Forwarded-* and drops hop-by-hop headers', async () => {
    const port = await freePort();
    await h.client.setRoute(route('hdr', port, [backend('blue', 100, [blue])]));
    const a = await get(port, '/headers', { 'x-forwarded-for': '203.0.113.9', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1' });
    const seen = JSON.parse(a.body).headers as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(`127.0.0.1:${port}`);
    expect(seen['x-secret-hop']).toBeUndefined();
  });

  it('streams request bodies to the upstream and back', async () => {
    const port = await freePort();
    await h.client.setRoute(route('echo', port, [backend('blue', 100, [blue])]));
    const body = 'x'.repeat(300_000);
    const a = await get(port, '/echo', { 'content-type': 'text/plain' }, 'POST', body);
    expect(a.status).toBe(200);
    expect(a.body.length).toBe(body.length);
  });

  it('splits 1000 requests 30/70 within a statistical bound (5 sigma)', async () => {
    const port = await freePort();
    await h.client.setRoute(route('split', port, [backend('blue', 30, [blue]), backend('green', 70, [green])]));
    const counts = { blue: 0, green: 0 } as Record<string, number>;
    for (let i = 0; i < 1000; i += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => get(port, '/')));
      for (const a of answers) counts[a.body]++;
    }
    expect(counts.blue + counts.green).toBe(1000);
    expect(counts.blue).toBeGreaterThan(300 - 73);
    expect(counts.blue).toBeLessThan(300 + 73);
  });

  it('keeps a client on its release with a cookie while that release has weight', async () => {
    const port = await freePort();
    await h.client.setRoute(route('sticky', port, [backend('blue', 50, [blue]), backend('green', 50, [green])], { sticky: 'cookie' }));
    const first = await get(port, '/');
    const setCookie = (first.headers['set-cookie'] as string[])[0];
    expect(setCookie).toMatch(new RegExp(`^symphony_release_sticky=${first.body};`));
    const cookie = setCookie.split(';')[0];
    const again = await Promise.all(Array.from({ length: 40 }, () => get(port, '/', { cookie })));
    expect(new Set(again.map((a) => a.body))).toEqual(new Set([first.body]));
    expect(again.every((a) => a.headers['set-cookie'] === undefined)).toBe(true);
    const other = first.body === 'blue' ? 'green' : 'blue';
    await h.client.setRoute(
      route('sticky', port, [backend(first.body, 0, [first.body === 'blue' ? blue : green]), backend(other, 100, [other === 'blue' ? blue : green])], { sticky: 'cookie' }),
    );
    const moved = await get(port, '/', { cookie });
    expect(moved.body).toBe(other);
    expect((moved.headers['set-cookie'] as string[])[0]).toContain(`=${other};`);
  });

  it('retries a refused connection on another upstream: 0 failures, the dead one marked down', async () => {
    const port = await freePort();
    const dead = { port: await freePort() };
    await h.client.setRoute(route('retry', port, [backend('blue', 100, [dead, blue, dead])]));
    const answers = await Promise.all(Array.from({ length: 60 }, () => get(port, '/')));
    expect(answers.map((a) => a.status)).toEqual(Array(60).fill(200));
    const stats = await h.client.stats();
    expect(stats.upstreams.find((u) => u.key === `127.0.0.1:${dead.port}`)?.healthy).toBe(false);
    expect(stats.routes.find((r) => r.id === 'retry')?.releases[0].errors).toBe(0);
  });

  it('retries a refused connection with the request body intact (nothing was read from it)', async () => {
    const port = await freePort();
    const dead = { port: await freePort() };
    await h.client.setRoute(route('retry-body', port, [backend('blue', 100, [dead, blue])]));
    const body = 'y'.repeat(100_000);
    const a = await get(port, '/echo', { 'content-type': 'text/plain' }, 'POST', body);
    expect(a.status).toBe(200);
    expect(a.body).toBe(body);
    const deadState = (await h.client.stats()).upstreams.find((u) => u.key === `127.0.0.1:${dead.port}`);
    expect(deadState?.healthy).toBe(false);
    expect(deadState?.lastError).toMatch(/ECONNREFUSED/);
  });

  it('answers 502 with a clear body when every upstream is down', async () => {
    const port = await freePort();
    const deadA = { port: await freePort() };
    const deadB = { port: await freePort() };
    await h.client.setRoute(route('down', port, [backend('blue', 100, [deadA, deadB])]));
    const a = await get(port, '/');
    expect(a.status).toBe(502);
    expect(a.body).toContain('no healthy upstream for route down, release blue');
  });

  it('answers 504 when the upstream sends no headers within the route timeout', async () => {
    const port = await freePort();
    await h.client.setRoute(route('slow', port, [backend('blue', 100, [blue])], { timeoutMs: 200 }));
    const a = await get(port, '/slow?ms=1500');
    expect(a.status).toBe(504);
    expect(a.body).toContain('sent no response within 200 ms on route slow');
  });

  it('answers 503 when all weights are 0, and rejects an invalid route without changing anything', async () => {
    const port = await freePort();
    await h.client.setRoute(route('zero', port, [backend('blue', 0, [blue])]));
    expect((await get(port, '/')).status).toBe(503);
    const before = (await h.client.getConfig()).version;
    await expect(h.client.setRoute(route('zero', port, [backend('blue', 40, [blue])]))).rejects.toMatchObject({ code: 'route_invalid' });
    expect((await h.client.getConfig()).version).toBe(before);
  });

  it('rejects a route whose port is taken by something else', async () => {
    const taken = blue.port;
    await expect(h.client.setRoute(route('clash', taken, [backend('blue', 100, [blue])]))).rejects.toMatchObject({ code: 'router_listen' });
    expect((await h.client.getConfig()).routes.some((r) => r.id === 'clash')).toBe(false);
  });
});
