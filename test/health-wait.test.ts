import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthCheckTimeoutError } from '../src/errors.js';
import { InstanceExitedError, resolveHealthCheck, waitHealthy } from '../src/health/index.js';
import { ProcessDriver } from '../src/runtime/process/index.js';
import type { InstanceHandle, InstanceSpec } from '../src/runtime/types.js';
import { freePort } from '../src/util/ports.js';

const APP = fileURLToPath(new URL('./fixtures/apps/http-app.mjs', import.meta.url));
const host = '127.0.0.1';

let dir: string;
let driver: ProcessDriver;
const started: InstanceHandle[] = [];

async function start(id: string, extra: Partial<InstanceSpec> = {}): Promise<InstanceHandle> {
  const h = await driver.start({ id, service: 'api', release: 'r1', command: `exec node ${APP}`, cwd: dir, env: {}, logDir: join(dir, 'logs'), ...extra });
  started.push(h);
  return h;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-wait-'));
  driver = new ProcessDriver({ scope: join(dir, 'state') });
});

afterAll(async () => {
  for (const h of started) await driver.stop(h, { graceMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

describe('waitHealthy on real instances', () => {
  const cases = [
    ['http', { http: '/healthz' }],
    ['tcp', { tcp: true }],
    ['exec', { exec: 'node -e "fetch(\'http://127.0.0.1:\' + process.env.PORT + \'/healthz\').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"' }],
  ] as const;

  it.each(cases)('a started app becomes healthy by %s probe', async (kind, probe) => {
    const port = await freePort();
    const h = await start(`api-${kind}-0`, { port });
    const check = resolveHealthCheck({ ...probe, interval: '50ms', timeout: '10s', start_timeout: '40s', healthy_threshold: 2 });
    await expect(
      waitHealthy(check, { host, port, cwd: dir }, { instance: h.id, isAlive: () => driver.isAlive(h) }),
    ).resolves.toBeUndefined();
    expect(driver.isAlive(h)).toBe(true);
  });

  it('times out with HealthCheckTimeoutError for an app that never listens', async () => {
    const port = await freePort();
    const h = await start('api-deaf-0', { env: { NOT_LISTENING_ON: String(port) } });
    const check = resolveHealthCheck({ http: '/healthz', interval: '50ms', timeout: '10s', start_timeout: '600ms' });
    const err = await waitHealthy(check, { host, port }, { instance: h.id, logFile: driver.logFile(h.id), isAlive: () => driver.isAlive(h) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HealthCheckTimeoutError);
    const e = err as HealthCheckTimeoutError;
    expect(e.instance).toBe('api-deaf-0');
    expect(e.waitedMs).toBeGreaterThanOrEqual(600);
    expect(e.lastDetail).toBe(`GET http://127.0.0.1:${port}/healthz: connection refused (ECONNREFUSED)`);
    expect(e.hint).toBe(`look at its log: ${driver.logFile('api-deaf-0')}`);
    expect(driver.isAlive(h)).toBe(true);
  });

  it('fails fast with InstanceExitedError when the process dies, pointing at its log', async () => {
    const port = await freePort();
    const h = await start('api-crash-0', { port, command: 'echo "cannot connect to database" >&2; exit 1' });
    const check = resolveHealthCheck({ http: '/healthz', interval: '50ms', timeout: '10s', start_timeout: '10m' });
    const err = await waitHealthy(check, { host, port }, { instance: h.id, logFile: driver.logFile(h.id), isAlive: () => driver.isAlive(h) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstanceExitedError);
    const e = err as InstanceExitedError;
    expect(e.message).toMatch(/^instance api-crash-0 exited before it became healthy \(last probe: /);
    expect(e.hint).toBe(`look at its log for the reason: ${driver.logFile('api-crash-0')}`);
    expect(e.toJSON()).toMatchObject({ code: 'instance_exited' });
  });
});

describe('waitHealthy thresholds and cancellation', () => {
  it('needs healthyThreshold consecutive successes: a failure restarts the count', async () => {
    const answers = [200, 503, 200, 200, 503, 200, 200, 200, 200, 200];
    let served = 0;
    const server = createServer((_req, res) => res.writeHead(answers[Math.min(served++, answers.length - 1)]).end());
    server.listen(0, host);
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const check = resolveHealthCheck({ http: '/', interval: '10ms', timeout: '10s', start_timeout: '30s', healthy_threshold: 3 });
      await waitHealthy(check, { host, port }, { instance: 'api-flaky-0' });
      expect(served).toBe(8);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('stops when its signal is aborted, throwing the abort reason', async () => {
    const port = await freePort();
    const check = resolveHealthCheck({ tcp: true, interval: '50ms', start_timeout: '10m' });
    const ctl = new AbortController();
    const waiting = waitHealthy(check, { host, port }, { instance: 'api-cancel-0', signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('deploy cancelled')), 200);
    await expect(waiting).rejects.toThrow('deploy cancelled');
  });
});
