import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { Journal } from '../src/state/journal.js';
import { StateStore } from '../src/state/store.js';
import { freePort } from '../src/util/ports.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, releaseFiles, routerConfig, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, stackDir, symphony } from './helpers/cli.js';

// Canary through the real CLI: the router measures both releases under load
// from the test process; an injected error rate rolls the canary back by
// itself, a healthy canary walks its steps to 100%, sticky by cookie.
let dir: string;
let state: string;
let port: number;
let stable: string;
let metricsPort: number;

/** One sample of the router's Prometheus metrics; throws when the series does not exist (a renamed metric must not read as 0). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await get(`http://127.0.0.1:${metricsPort}/metrics`)).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && want.every((w) => l.includes(w)));
  if (line === undefined) throw new Error(`no series ${name}{${want.join(',')}} in the router's /metrics:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  port = await freePort();
  dir = stackDir(
    releaseFiles(
      `name: canary
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy:
      strategy: canary
      steps: [10, 50, 100]
      pause: 1s
      analysis: { interval: 2s, max_error_rate: 0.01, max_p99_ratio: 2, min_requests: 20 }
      sticky: cookie
      drain: 1s
      grace: 2s
      warm: 0s
routes:
  - { listen: ${port}, to: web }
`,
      { web: { version: 'v1' } },
    ),
  );
  state = join(dir, '.symphony');
  // The router is started by the first agent; it serves its metrics here.
  metricsPort = await freePort();
  const r = await symphony(['apply', '--yes'], { cwd: dir, env: { SYMPHONY_ROUTER_METRICS_PORT: String(metricsPort) } });
  expect(r.code, r.stderr).toBe(0);
  stable = (await agentStatus(state)).services[0].release!;
});

afterAll(async () => {
  await cleanup(state);
});

const url = (): string => `http://127.0.0.1:${port}`;
const running = async (): Promise<string[]> => (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();

/** A client with a cookie jar of one cookie (the router's sticky cookie), noting each version it was served. */
class CookieClient {
  cookie: string | undefined;
  readonly versions: string[] = [];
  failures = 0;

  async once(): Promise<void> {
    try {
      const r = await get(url(), { headers: this.cookie ? { cookie: this.cookie } : {} });
      const set = r.headers['set-cookie'];
      if (set?.length) this.cookie = set[0].split(';')[0];
      if (r.status === 200) this.versions.push(r.body.split(' ')[0]);
      else this.failures++;
    } catch {
      this.failures++;
    }
  }
}

describe('canary', () => {
  it('rolls back by itself on an injected error rate, says why, and stops the canary', async () => {
    setApp(dir, 'web', { version: 'v2', errorEvery: 2 });
    const load = new Load(url(), { keepAlive: 3, fresh: 1 }).start();
    await load.flowing();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const during = await load.stop();
    const out = r.stdout + r.stderr;

    expect(r.code, out).toBe(1);
    expect(out).toMatch(/operation \S+ undone: web:canary: canary gate failed at 10%: canary error rate [\d.]+% \(\d+\/\d+\) > 1\.0%; traffic goes back to web-[0-9a-f]{8}/);
    expect(out).toContain(`traffic goes back to ${stable}`);
    expect(out).toContain('symphony logs web');
    // The canary really took a share, and only the canary failed; the router counted it.
    expect(during.sent).toBeGreaterThan(0);
    expect(during.versions.v2).toBeGreaterThan(0);
    expect(during.failed).toBeGreaterThan(0);
    expect(during.failures.length).toBeGreaterThan(0);
    const canaryId = /replace\s+\S+ -> (web-[0-9a-f]{8})/.exec(r.stderr)![1];
    expect(await metric('symphony_router_errors_total', { route: `default:${port}`, release: canaryId })).toBeGreaterThanOrEqual(during.failed);
    expect(await metric('symphony_router_errors_total', { route: `default:${port}`, release: stable })).toBe(0);
    expect(during.failures.every((f) => f.includes('HTTP 500: v2 ')), during.failures.join('\n')).toBe(true);

    const cfg = await routerConfig(state);
    const route = cfg.routes.find((x) => x.listen === port)!;
    expect(route.backends.filter((b) => b.weight > 0).map((b) => [b.release, b.weight])).toEqual([[stable, 100]]);
    const s = await agentStatus(state);
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.release).toBe(stable);
    expect(s.operation?.status).toBe('undone');
    expect(await running()).toEqual(web.instances.map((i) => i.id).sort());
    expect(web.instances.every((i) => i.release === stable)).toBe(true);
  });

  it('rolls back by itself when the canary is slow: p99 against the stable release', async () => {
    setApp(dir, 'web', { version: 'v2', slowMs: 400 });
    const load = new Load(url(), { keepAlive: 3, fresh: 1 }).start();
    await load.flowing();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const during = await load.stop();
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    expect(out).toMatch(/undone: web:canary: canary gate failed at 10%: canary p99 [\d.]+ ms > 2x stable p99 [\d.]+ ms; traffic goes back to /);
    expect(during.sent).toBeGreaterThan(0);
    expect(during.failed, during.failures.join('\n')).toBe(0);
    expect(during.versions.v2).toBeGreaterThan(0);
    const s = await agentStatus(state);
    expect(s.services[0].release).toBe(stable);
    expect(await running()).toEqual(s.services[0].instances.map((i) => i.id).sort());
  });

  it('only stable answers once the failed canary is undone', async () => {
    const load = new Load(url(), { keepAlive: 2, fresh: 2 }).start();
    await load.flowing(200);
    const report = await load.stop();
    expect(report.sent).toBeGreaterThan(0);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(Object.keys(report.versions)).toEqual(['v1']);
  });

  it('a healthy canary walks its steps to the new release; a cookie keeps each client on one version', async () => {
    setApp(dir, 'web', { version: 'v3' });
    const load = new Load(url(), { keepAlive: 3, fresh: 1 }).start();
    await load.flowing();
    const clients: CookieClient[] = [];
    let applying = true;
    const sticky = (async () => {
      const loops: Promise<void>[] = [];
      while (applying) {
        const c = new CookieClient();
        clients.push(c);
        loops.push(
          (async () => {
            while (applying) {
              await c.once();
              await sleep(50);
            }
          })(),
        );
        await sleep(200);
      }
      await Promise.all(loops);
    })();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    applying = false;
    await sticky;
    const report = await load.stop();

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(report.sent).toBeGreaterThan(0);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(clients.length).toBeGreaterThan(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v3).toBeGreaterThan(0);
    // Sticky: a client moves at most once, from stable to the new release (at the final switch).
    const moves = clients.map((c) => c.versions.filter((v, i) => i > 0 && v !== c.versions[i - 1]).length);
    for (const [i, c] of clients.entries()) {
      expect(c.failures).toBe(0);
      expect(moves[i], c.versions.join(',')).toBeLessThanOrEqual(1);
      if (moves[i] === 1) expect(c.versions[0]).toBe('v1');
    }
    // Some clients were pinned to the canary before the switch, some to stable.
    const stillOnCanary = clients.filter((c) => c.versions.length > 5 && c.versions.every((v) => v === 'v3'));
    const keptOnStable = clients.filter((c) => c.versions.filter((v) => v === 'v1').length > 3);
    expect(stillOnCanary.length, JSON.stringify(clients.map((c) => c.versions.join('')))).toBeGreaterThan(0);
    expect(keptOnStable.length).toBeGreaterThan(0);
    // The router's Prometheus metrics carry both releases of the route.
    const canaryId = /replace\s+\S+ -> (web-[0-9a-f]{8})/.exec(r.stderr)![1];
    const routeId = `default:${port}`;
    expect(await metric('symphony_router_requests_total', { route: routeId, release: canaryId, code: '2xx' })).toBeGreaterThan(0);
    expect(await metric('symphony_router_requests_total', { route: routeId, release: stable, code: '2xx' })).toBeGreaterThan(0);
    expect(await metric('symphony_router_request_duration_seconds_count', { route: routeId, release: canaryId })).toBeGreaterThan(0);

    const s = await agentStatus(state);
    const web = s.services.find((x) => x.name === 'web')!;
    expect(web.release).not.toBe(stable);
    expect(s.operation?.status).toBe('succeeded');
    const store = new StateStore(state);
    try {
      const canary = new Journal(store).steps(s.operation!.id).find((x) => x.name === 'web:canary')!;
      expect(canary.status).toBe('done');
      const verdicts = (canary.detail as { verdicts: string[] }).verdicts;
      expect(verdicts.map((v) => v.split(':')[0])).toEqual(['10%', '50%']);
    } finally {
      store.close();
    }
    expect(web.instances.map((i) => i.release)).toEqual([web.release, web.release]);
    expect(await running()).toEqual(web.instances.map((i) => i.id).sort());
    const cfg = await routerConfig(state);
    expect(cfg.routes.find((x) => x.listen === port)!.backends.filter((b) => b.weight > 0).map((b) => [b.release, b.weight])).toEqual([[web.release, 100]]);
    for (let i = 0; i < 20; i++) expect((await get(url())).body).toMatch(/^v3 /);
  });

  it('a canary nobody sends traffic to is not promoted: the gate says there is not enough to judge', async () => {
    const live = (await agentStatus(state)).services[0].release!;
    const served = (await get(url())).body.split(' ')[0];
    setApp(dir, 'web', { version: 'v4' });
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    expect(out).toMatch(/undone: web:canary: canary gate failed at 10%: only \d+ canary requests \(< 20\): not enough to judge; traffic goes back to /);
    expect(out).toContain('lower deploy.analysis.min_requests');
    const s = await agentStatus(state);
    expect(s.services[0].release).toBe(live);
    expect(await running()).toEqual(s.services[0].instances.map((i) => i.id).sort());
    expect((await get(url())).body.split(' ')[0]).toBe(served);
  });
});
