import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import { freePort } from '../src/util/ports.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { join } from 'node:path';

// A real app whose /work burns ~20 ms of CPU, behind the router, scaled by the agent from /proc figures.
const SERVER = `import { createServer } from 'node:http';
const id = process.env.SYMPHONY_INSTANCE;
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url === '/work') { const end = performance.now() + 20; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1); return res.end(id + ' ' + Math.round(x % 10) + '\\n'); }
  res.end(id + ' ' + (process.env.APP_VERSION ?? '') + '\\n');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); setTimeout(() => process.exit(0), 3000).unref(); });
`;
const stack = (port: number, version: string): string => `name: scaler
services:
  web:
    run: node server.mjs
    dir: ./web
    env: { APP_VERSION: ${version} }
    replicas: 1
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, warm: 0s }
    autoscale:
      min: 1
      max: 3
      cpu: { up: 50%, down: 10% }
      periods: 2
      interval: 1s
      cooldown: { up: 0s, down: 3s }
routes:
  - { listen: ${port}, to: web }
`;

let dir: string;
let state: string;
let port: number;
const cli = (...args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
const status = async (): Promise<EnvStatus> => json<EnvStatus>(await cli('status', '--json'));
const running = async (): Promise<number> => (await status()).services.find((s) => s.name === 'web')!.instances.filter((i) => i.status === 'running').length;
const events = async (): Promise<string[]> => json<{ events: Array<{ kind: string; message: string }> }>(await cli('events', '--json', '-n', '200')).events.filter((e) => e.kind === 'scaled').map((e) => e.message);

/** Open-loop requests to `path` at `rate`/s until stopped: failures and the instances that answered. */
function load(path: string, rate: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const by = new Map<string, number>();
  let sent = 0;
  let failed = 0;
  let done = 0;
  const timer = setInterval(() => {
    sent++;
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        done++;
        if (res.statusCode !== 200) failed++;
        else by.set(body.split(' ')[0], (by.get(body.split(' ')[0]) ?? 0) + 1);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => (failed++, done++));
    req.end();
  }, 1000 / rate);
  return {
    async stop() {
      clearInterval(timer);
      for (let i = 0; i < 200 && done < sent; i++) await sleep(50);
      agent.destroy();
      return { sent, failed: failed + (sent - done), by };
    },
  };
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(port, 'v1'), 'web/server.mjs': SERVER });
  state = join(dir, 'state');
  const r = await cli('apply', '--yes');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (state) await cleanup(state);
});

describe('autoscaling on CPU', () => {
  it('scales up under a CPU-bound load and back down after it, within min/max, failing no request', async () => {
    expect(await running()).toBe(1);
    const l = load('/work', 40);
    await until('a scale-up', async () => (await running()) >= 2, 60_000);
    // Two replicas share 0.8 core: 40% each, between the thresholds, so it stays at two or three, never more.
    await sleep(4000);
    const during = await running();
    expect(during).toBeGreaterThanOrEqual(2);
    expect(during).toBeLessThanOrEqual(3);
    const r = await l.stop();
    expect(r.sent).toBeGreaterThan(200);
    expect(r.failed).toBe(0);
    expect(r.by.size).toBeGreaterThanOrEqual(2);
    await until('a scale-down to min', async () => (await running()) === 1, 60_000);

    const scaled = await events();
    // Oldest first: the first scale-up, and last the scale-down to min.
    expect(scaled[0]).toMatch(/^scaled web 1 → 2: cpu \d+%, \d+% > 50%$/);
    expect(scaled[scaled.length - 1]).toMatch(/^scaled web \d → 1: cpu \d+%, \d+% < 10%$/);
    expect(scaled.every((m) => !/→ [04-9]/.test(m))).toBe(true);
    const h = (await cli('history')).stdout;
    expect(h).toMatch(/scale/);
  }, 180_000);

  it('symphony scale is clamped to max; a deploy keeps the scaled count and the plan says so; below min is clamped too', async () => {
    const r = await cli('scale', 'web', '5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('scaling web 1 → 3 (asked 5; kept within its autoscale min/max)');
    expect(await running()).toBe(3);
    // No load: the autoscaler would bring it down after 3 s; a deploy now keeps 3.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'symphony.yaml'), stack(port, 'v2'));
    const plan = await cli('plan');
    expect(plan.stdout + plan.stderr).toContain('keeps 3 replicas from autoscaling (replicas: 1 in the file is the starting count)');
    expect(json<{ replicas: Record<string, number> }>(await cli('plan', '--json')).replicas.web).toBe(3);
    const applied = await cli('apply', '--yes');
    expect(applied.code, applied.stderr).toBe(0);
    const s = await status();
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.instances.filter((i) => i.status === 'running' && i.release === web.release).length).toBeGreaterThanOrEqual(1);
    const zero = await cli('scale', 'web', '0');
    expect(zero.stderr).toMatch(/scaling web \d → 1 \(asked 0; kept within its autoscale min\/max\)|already runs 1 replica \(0 is outside autoscale min 1 \/ max 3\)/);
  }, 180_000);
});
