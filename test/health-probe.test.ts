import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeOnce, resolveHealthCheck } from '../src/health/index.js';
import { freePort } from '../src/util/ports.js';

let http: Server;
let silent: TcpServer;
let httpPort: number;
let silentPort: number;
let closedPort: number;
let dir: string;
const host = '127.0.0.1';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-probe-'));
  http = createServer((req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    if (req.url === '/moved') return void res.writeHead(301, { location: '/healthz' }).end();
    if (req.url === '/hang') return;
    res.writeHead(503).end('down');
  });
  http.listen(0, host);
  await once(http, 'listening');
  httpPort = (http.address() as { port: number }).port;
  silent = createTcpServer(() => undefined);
  silent.listen(0, host);
  await once(silent, 'listening');
  silentPort = (silent.address() as { port: number }).port;
  closedPort = await freePort();
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  await new Promise((r) => silent.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('http probe', () => {
  const check = (path: string, timeout = '10s') => resolveHealthCheck({ http: path, timeout });

  it('passes on 2xx and 3xx, fails on 5xx with the status in the detail', async () => {
    expect(await probeOnce(check('/healthz'), { host, port: httpPort })).toEqual({ ok: true, detail: `GET http://127.0.0.1:${httpPort}/healthz: 200` });
    expect(await probeOnce(check('/moved'), { host, port: httpPort })).toEqual({ ok: true, detail: `GET http://127.0.0.1:${httpPort}/moved: 301` });
    expect(await probeOnce(check('/broken'), { host, port: httpPort })).toEqual({ ok: false, detail: `GET http://127.0.0.1:${httpPort}/broken: 503` });
  });

  it('says connection refused when nothing listens', async () => {
    expect(await probeOnce(check('/healthz'), { host, port: closedPort })).toEqual({
      ok: false,
      detail: `GET http://127.0.0.1:${closedPort}/healthz: connection refused (ECONNREFUSED)`,
    });
  });

  it('gives up after the timeout when the app does not answer', async () => {
    expect(await probeOnce(check('/hang', '300ms'), { host, port: httpPort })).toEqual({
      ok: false,
      detail: `GET http://127.0.0.1:${httpPort}/hang: no answer within 300 ms`,
    });
  });

  it('fails with a clear detail when the instance has no port', async () => {
    expect(await probeOnce(check('/healthz'), { host })).toEqual({ ok: false, detail: 'http /healthz: the instance has no port to probe' });
  });

  it('requires every named probe to pass', async () => {
    const both = resolveHealthCheck({ http: '/healthz', exec: 'exit 4', timeout: '10s' });
    expect(await probeOnce(both, { host, port: httpPort })).toEqual({ ok: false, detail: 'exec "exit 4": exit code 4' });
  });
});

describe('tcp probe', () => {
  const check = resolveHealthCheck({ tcp: true, timeout: '10s' });

  it('passes when the port accepts a connection, even if the app never speaks', async () => {
    expect(await probeOnce(check, { host, port: silentPort })).toEqual({ ok: true, detail: `tcp 127.0.0.1:${silentPort}: connected` });
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    expect(await probeOnce(check, { host, port: closedPort })).toEqual({
      ok: false,
      detail: `tcp 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)`,
    });
  });
});

describe('exec probe', () => {
  it('passes on exit 0, running in the target cwd with its env and PORT', async () => {
    const check = resolveHealthCheck({ exec: 'test "$(pwd)" = "$WANT_DIR" && test "$PORT" = 1234', timeout: '10s' });
    const res = await probeOnce(check, { host, port: 1234, cwd: dir, env: { WANT_DIR: dir } });
    expect(res.ok).toBe(true);
  });

  it('does not leak the agent environment into the probe', async () => {
    process.env.SYMPHONY_TEST_PROBE_LEAK = 'agent-only';
    const check = resolveHealthCheck({ exec: 'test -z "$SYMPHONY_TEST_PROBE_LEAK"', timeout: '10s' });
    expect((await probeOnce(check, { host, cwd: dir })).ok).toBe(true);
    delete process.env.SYMPHONY_TEST_PROBE_LEAK;
  });

  it('reports the exit code and the last stderr line', async () => {
    const check = resolveHealthCheck({ exec: 'echo starting >&2; echo "database not ready" >&2; exit 2', timeout: '10s' });
    expect(await probeOnce(check, { host, cwd: dir })).toEqual({
      ok: false,
      detail: 'exec "echo starting >&2; echo \\"database not ready\\" >&2; exit 2": exit code 2: database not ready',
    });
  });

  it('kills a probe that runs past the timeout', async () => {
    const check = resolveHealthCheck({ exec: 'sleep 30', timeout: '200ms' });
    expect(await probeOnce(check, { host, cwd: dir })).toEqual({ ok: false, detail: 'exec "sleep 30": no answer within 200 ms' });
  });

  it('passes with no probe configured', async () => {
    expect(await probeOnce(resolveHealthCheck(undefined), { host })).toEqual({ ok: true, detail: 'no probe configured' });
  });
});
