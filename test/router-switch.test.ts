import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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

const only = (id: string, port: number, release: 'blue' | 'green', extra = {}) =>
  route(id, port, [backend('blue', release === 'blue' ? 100 : 0, [blue]), backend('green', release === 'green' ? 100 : 0, [green])], extra);

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
}

describe('router: switching releases', () => {
  it('switches 20 times under continuous load with every response 200', async () => {
    const port = await freePort();
    await h.client.setRoute(only('load', port, 'blue'));
    let running = true;
    const statuses: number[] = [];
    const served = new Set<string>();
    const worker = async (): Promise<void> => {
      while (running) {
        const a = await get(port, '/');
        statuses.push(a.status);
        served.add(a.body);
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 40));
      await h.client.setRoute(only('load', port, i % 2 === 0 ? 'green' : 'blue'));
    }
    running = false;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(served).toEqual(new Set(['blue', 'green']));
  });

  it('lets a 2-second request on the old release finish after the switch and removal of the old release', async () => {
    const port = await freePort();
    await h.client.setRoute(only('drain', port, 'blue'));
    const slow = get(port, '/slow?ms=2000');
    await waitFor(async () => (await inFlight('drain', 'blue')) === 1);
    await h.client.setRoute(route('drain', port, [backend('green', 100, [green])]));
    expect((await get(port, '/')).body).toBe('green');
    const stats = await h.client.stats();
    expect(stats.routes.find((r) => r.id === 'drain')?.releases.find((r) => r.release === 'blue')?.inFlight).toBe(1);
    const a = await slow;
    expect(a.status).toBe(200);
    expect(a.body).toBe('blue slow 2000\n');
  });

  it('keeps an SSE stream on the old release streaming after a switch until closeLongLived', async () => {
    const port = await freePort();
    await h.client.setRoute(only('sse', port, 'blue'));
    const events: string[] = [];
    let ended = false;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/sse' }, resolve);
      req.on('error', reject);
      req.end();
    });
    res.setEncoding('utf8');
    res.on('data', (c: string) => events.push(...c.split('\n\n').filter(Boolean)));
    res.on('end', () => (ended = true));
    await waitFor(() => events.length >= 2);
    await h.client.setRoute(only('sse', port, 'green'));
    const atSwitch = events.length;
    await waitFor(() => events.length >= atSwitch + 3);
    expect(events.every((e) => e.startsWith('data: blue'))).toBe(true);
    const stats = await h.client.stats();
    expect(stats.routes.find((r) => r.id === 'sse')?.releases.find((r) => r.release === 'blue')?.longLived).toBe(1);
    expect(await h.client.closeLongLived('blue')).toBe(1);
    await waitFor(() => ended);
    expect((await get(port, '/')).body).toBe('green');
  });

  it('tunnels WebSockets, keeps them across a switch, and closes them with 1001 on closeLongLived', async () => {
    const port = await freePort();
    await h.client.setRoute(only('ws', port, 'blue'));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    const hello = nextMessage(ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    expect(await hello).toBe('hello from blue');
    const echo = nextMessage(ws);
    ws.send('one');
    expect(await echo).toBe('blue: one');

    await h.client.setRoute(only('ws', port, 'green'));
    const afterSwitch = nextMessage(ws);
    ws.send('two'.repeat(30_000));
    expect(await afterSwitch).toBe('blue: ' + 'two'.repeat(30_000));
    const fresh = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    expect(await nextMessage(fresh)).toBe('hello from green');

    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(await h.client.closeLongLived('blue')).toBe(1);
    expect(await closed).toBe(1001);
    await waitFor(() => blue.wsCloseCodes.length === 1);
    expect(blue.wsCloseCodes).toEqual([1001]);
    const freshEcho = nextMessage(fresh);
    fresh.send('three');
    expect(await freshEcho).toBe('green: three');
    fresh.close();
  });
});

async function inFlight(routeId: string, release: string): Promise<number> {
  const stats = await h.client.stats();
  return stats.routes.find((r) => r.id === routeId)?.releases.find((r) => r.release === release)?.inFlight ?? 0;
}

async function waitFor(check: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${limitMs} ms: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
