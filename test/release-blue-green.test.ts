import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { cleanup, symphony } from './helpers/cli.js';

// Blue-green through the real CLI, agent and router while the test process
// sends continuous traffic (keep-alive and new-connection loops) and keeps
// 2-second requests in flight: no request may fail, across 3 deploys.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: bluegreen
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 4s, grace: 3s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

interface SlowResult {
  status: number | string;
  version: string;
  /** How many new-version answers the load had seen when this request started / ended. */
  newSeenAtStart: number;
  newSeenAtEnd: number;
}

describe('blue-green under continuous load', () => {
  it('3 deploys, 0 failed requests; 2-second requests in flight at the switch complete with 200', async () => {
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 3, fresh: 2 }).start();
    await load.flowing();
    const slow: SlowResult[] = [];
    try {
      for (const v of ['v2', 'v3', 'v4']) {
        setApp(dir, 'web', { version: v });
        const seen = (): number => load.report.versions[v] ?? 0;
        let applying = true;
        const slowLoop = (async () => {
          const pending: Promise<void>[] = [];
          while (applying) {
            const started = seen();
            pending.push(
              get(`http://127.0.0.1:${port}/slow?ms=2000`).then(
                (r) => void slow.push({ status: r.status, version: r.body.split(' ')[0], newSeenAtStart: started, newSeenAtEnd: seen() }),
                (err: Error) => void slow.push({ status: err.message, version: '?', newSeenAtStart: started, newSeenAtEnd: seen() }),
              ),
            );
            await new Promise((res) => setTimeout(res, 250));
          }
          await Promise.all(pending);
        })();
        const r = await symphony(['apply', '--yes'], { cwd: dir });
        applying = false;
        await slowLoop;
        expect(r.code, r.stderr).toBe(0);
        await load.flowing();
        const s = await agentStatus(state);
        const web = s.services.find((x) => x.name === 'web')!;
        expect(web.instances).toHaveLength(2);
        expect(web.instances.every((i) => i.release === web.release && i.alive)).toBe(true);
        expect((await get(`http://127.0.0.1:${port}/`)).body.startsWith(`${v} `)).toBe(true);
      }
    } finally {
      const report = await load.stop();
      expect(report.failed, report.failures.join('\n')).toBe(0);
      expect(report.versions.v1).toBeGreaterThan(0);
      expect(report.versions.v4).toBeGreaterThan(0);
    }
    expect(slow.filter((s) => s.status !== 200), JSON.stringify(slow)).toEqual([]);
    // A request that the old release answered although the new one was already
    // answering when it ended was in flight at the switch.
    const acrossSwitch = slow.filter((s) => s.newSeenAtStart === 0 && s.newSeenAtEnd > 0 && ['v1', 'v2', 'v3'].includes(s.version));
    expect(acrossSwitch.length, JSON.stringify(slow)).toBeGreaterThan(0);
  });
});
