import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { get } from './fixtures/release-apps/traffic.js';
import { appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, symphony } from './helpers/cli.js';

// A WebSocket and an SSE stream opened to v1 through the router stay open
// across the switch to v2 (they keep talking to v1 after new requests already
// reach v2) and are closed gracefully at the end of the drain.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: longlived
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 1
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 3s, grace: 2s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

interface Watch {
  /** How many v2 answers plain requests had seen when each message arrived. */
  seenAt: number[];
  messages: string[];
  end: string | null;
}

describe('WebSocket and SSE across a blue-green switch', () => {
  it('stay open on v1 after the switch and close gracefully at the end of the drain', async () => {
    let v2Seen = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const r = await get(`http://127.0.0.1:${port}/`);
        if (r.body.startsWith('v2 ')) v2Seen++;
        await sleep(50);
      }
    })();

    const ws: Watch = { seenAt: [], messages: [], end: null };
    const sock = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const wsClosed = new Promise<void>((resolve) => {
      sock.on('message', (m) => {
        ws.messages.push(String(m));
        ws.seenAt.push(v2Seen);
      });
      sock.on('close', (code, reason) => {
        ws.end = `close ${code} ${String(reason)}`;
        resolve();
      });
      sock.on('error', (err) => {
        ws.end = `error ${err.message}`;
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('open', () => resolve());
      sock.once('error', reject);
    });
    const pinger = setInterval(() => sock.readyState === WebSocket.OPEN && sock.send('ping'), 100);

    const sse: Watch = { seenAt: [], messages: [], end: null };
    const sseEnded = new Promise<void>((resolve) => {
      const req = request(`http://127.0.0.1:${port}/sse`, { agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const ev of chunk.split('\n\n').filter(Boolean)) {
            sse.messages.push(ev);
            sse.seenAt.push(v2Seen);
          }
        });
        res.on('end', () => {
          sse.end ??= `end ${res.statusCode}`;
          resolve();
        });
        res.on('aborted', () => (sse.end = 'aborted'));
        res.on('error', (err) => (sse.end = `error ${err.message}`));
      });
      req.on('error', (err) => {
        sse.end = `request error ${err.message}`;
        resolve();
      });
      req.end();
    });

    try {
      for (let i = 0; i < 100 && (ws.messages.length < 2 || sse.messages.length < 2); i++) await sleep(50);
      setApp(dir, 'web', { version: 'v2' });
      const r = await symphony(['apply', '--yes'], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      await Promise.race([Promise.all([wsClosed, sseEnded]), sleep(10_000)]);
    } finally {
      clearInterval(pinger);
      polling = false;
      await poll;
      sock.terminate();
    }

    expect(ws.messages[0]).toBe('hello v1');
    expect(ws.messages.slice(1).every((m) => m === 'echo v1 ping'), ws.messages.join('|')).toBe(true);
    // Still talking to v1 after plain requests reached v2: not cut at the switch.
    expect(ws.seenAt.filter((n) => n > 0).length, JSON.stringify(ws.seenAt)).toBeGreaterThan(3);
    expect(ws.end).toMatch(/^close 1001/);

    expect(sse.messages.every((m) => m.startsWith('data: v1 ')), sse.messages.join('|')).toBe(true);
    expect(sse.seenAt.filter((n) => n > 0).length, JSON.stringify(sse.seenAt)).toBeGreaterThan(3);
    expect(sse.end).toBe('end 200');

    // New connections go to v2.
    const fresh = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const hello = await new Promise<string>((resolve, reject) => {
      fresh.once('message', (m) => resolve(String(m)));
      fresh.once('error', reject);
    });
    fresh.close();
    expect(hello).toBe('hello v2');
  });
});
