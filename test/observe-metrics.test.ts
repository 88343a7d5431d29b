import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsAnswer } from '../src/observe/guest.js';
import { freePort } from '../src/util/ports.js';
import { get } from './fixtures/release-apps/traffic.js';
import { appFiles, cleanup, json, stackDir, stopAgent, symphony } from './helpers/cli.js';

// A real stack with a route, real HTTP load, and a real Prometheus (Debian's `prometheus`,
// installed by scripts/setup.mjs) scraping the agent's /metrics every second; the
// assertions go through Prometheus' HTTP API.
const SECRET = 'metrics-must-never-show-this-7f3a';
const REQUESTS = 120;

let dir: string;
let state: string;
let routePort: number;
let metricsPort: number;
let promPort: number;
let promDir: string;
let prom: ChildProcess | null = null;
const holders: Server[] = [];

const stack = (metrics: string | null) => `name: obs
secrets:
  api_key: { env: OBS_TEST_SECRET }
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    env: { APP_SECRET: "\${secrets.api_key}" }
    health: { http: /healthz, interval: 100ms }
routes:
  - { listen: ${routePort}, to: web }
${metrics ? `observability:\n  metrics: ${metrics}\n` : ''}`;

const cli = (args: string[]) => symphony(args, { cwd: dir, env: { OBS_TEST_SECRET: SECRET } });
const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}
async function query(q: string): Promise<PromResult[]> {
  const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: PromResult[] }; error?: string };
  if (r.status !== 'success') throw new Error(`prometheus: ${r.error}`);
  return r.data.result;
}
/** Poll a PromQL query until `ok` holds (Prometheus scrapes every second); the last answer otherwise. */
async function until(q: string, ok: (r: PromResult[]) => boolean, timeoutMs = 30_000): Promise<PromResult[]> {
  const deadline = Date.now() + timeoutMs;
  let last: PromResult[] = [];
  while (Date.now() < deadline) {
    last = await query(q).catch(() => []);
    if (ok(last)) return last;
    await sleep(500);
  }
  return last;
}

beforeAll(async () => {
  [routePort, metricsPort, promPort] = [await freePort(), await freePort(), await freePort()];
  dir = stackDir({ 'symphony.yaml': stack(`127.0.0.1:${metricsPort}`), ...appFiles('web') });
  state = join(dir, '.symphony');
  promDir = mkdtempSync(join(tmpdir(), 'symphony-prom-'));
});

afterAll(async () => {
  if (prom?.pid) process.kill(prom.pid, 'SIGTERM');
  for (const h of holders) h.close();
  await cleanup(state);
  rmSync(promDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('metrics', () => {
  it('apply serves /metrics; Prometheus scrapes it and counts every request sent, each instance up', async () => {
    const applied = await cli(['apply', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stderr).toContain(`metrics: off -> http://127.0.0.1:${metricsPort}/metrics`);

    for (let i = 0; i < REQUESTS; i += 4) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => get(`http://127.0.0.1:${routePort}/`)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    }

    const text = await scrape();
    expect(text).toMatch(new RegExp(`^symphony_http_requests_total\\{env="default",service="web",release="web-[0-9a-f]{8}",code="2xx"\\} ${REQUESTS}$`, 'm'));
    expect(text).not.toContain(SECRET);

    writeFileSync(
      join(promDir, 'prometheus.yml'),
      // honor_labels: the exporter's own `instance` label (a Symphony instance id) stays, as docs/observe.md says.
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: symphony\n    honor_labels: true\n    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]\n`,
    );
    prom = spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });

    const total = await until('sum(symphony_http_requests_total)', (r) => r[0]?.value[1] === String(REQUESTS));
    expect(total[0]?.value[1]).toBe(String(REQUESTS));
    expect((await query('sum(symphony_http_request_duration_seconds_count)'))[0]?.value[1]).toBe(String(REQUESTS));
    expect((await query('sum(symphony_http_request_duration_seconds_bucket{le="+Inf"})'))[0]?.value[1]).toBe(String(REQUESTS));

    const up = await query('symphony_instance_up == 1');
    expect(up.map((r) => r.metric.instance).sort()).toEqual([0, 1].map((n) => expect.stringMatching(new RegExp(`^web-[0-9a-f]{8}-${n}$`))));
    expect(up.every((r) => r.metric.service === 'web' && r.metric.release === up[0].metric.release)).toBe(true);
    expect((await query('symphony_service_replicas{service="web"}')).map((r) => [r.metric.state, r.value[1]]).sort()).toEqual([
      ['desired', '2'],
      ['ready', '2'],
    ]);
    expect((await query('symphony_operations_total')).map((r) => [r.metric.kind, r.metric.status, r.value[1]])).toEqual([['apply', 'succeeded', '1']]);
    expect((await query('symphony_operation_duration_seconds_count{kind="apply"}'))[0]?.value[1]).toBe('1');
    const cpu = await query('symphony_instance_cpu_seconds_total > 0');
    expect(cpu).toHaveLength(2);
    expect(await query('symphony_instance_resident_memory_bytes > 10e6')).toHaveLength(2);
    expect(await query('symphony_instance_restarts_total')).toHaveLength(2);
  });

  it('symphony metrics prints req/s, error %, p50/p99, CPU and RSS per service', async () => {
    const r = await cli(['metrics', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const a = json<MetricsAnswer>(r);
    expect(a.services).toHaveLength(1);
    const web = a.services[0];
    expect(web).toMatchObject({ service: 'web', replicas: { desired: 2, ready: 2 }, errorRate: 0 });
    expect(web.rps).toBeCloseTo(REQUESTS / a.windowS, 1);
    expect(web.p50Ms).toBeGreaterThan(0);
    expect(web.p99Ms!).toBeGreaterThanOrEqual(web.p50Ms!);
    expect(web.cpu).not.toBeNull();
    expect(web.rssBytes).toBeGreaterThan(20e6);
    const human = await cli(['metrics', 'web']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^SERVICE\s+READY\s+REQ\/S\s+ERRORS\s+P50\s+P99\s+CPU\s+RSS$/m);
    expect(human.stdout).toMatch(/^web\s+2\/2\s+\d+\.\d\s+0\.00%\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+%\s+[\d.]+ MiB$/m);
    const none = await cli(['metrics', 'nope']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no service nope in environment default');
  });

  it('a restarted agent serves /metrics again; an address that is taken fails the apply and changes nothing', async () => {
    await stopAgent(state);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    expect((await cli(['status'])).code).toBe(0);
    expect(await scrape()).toContain('symphony_instance_up{');

    const taken = await freePort();
    const holder = createServer();
    holders.push(holder);
    await new Promise<void>((res) => holder.listen(taken, '127.0.0.1', () => res()));
    writeFileSync(join(dir, 'symphony.yaml'), stack(`127.0.0.1:${taken}`));
    const refused = await cli(['apply', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot serve metrics on 127.0.0.1:${taken}: EADDRINUSE`);
    expect(await scrape()).toContain('symphony_http_requests_total{');

    writeFileSync(join(dir, 'symphony.yaml'), stack(null));
    const off = await cli(['apply', '--yes']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toContain(`metrics: http://127.0.0.1:${metricsPort}/metrics -> off`);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});
