import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The one file of the bench app; Symphony, pm2 and the plain start all run this file. */
export const APP_FILE = 'server.mjs';

/**
 * Source of the bench app at one version: `/healthz`, `/` (answers the
 * version), `/slow` (answers after 2 s). It prints its own start->listening
 * time, and on SIGTERM or SIGINT (pm2 sends SIGINT) it stops accepting,
 * answers what is in flight with `Connection: close` (so keep-alive clients
 * move off instead of holding it open), then exits — the graceful shutdown
 * every peer gets. Changing the version changes the file, so a deploy is a real replace.
 */
export function appSource(version: string): string {
  return `// Symphony deploy-under-load bench app, version ${version}
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const VERSION = ${JSON.stringify(version)};
let closing = false;
const server = createServer((req, res) => {
  if (closing) res.setHeader('connection', 'close');
  if (req.url === '/healthz') return res.end('ok');
  if (req.url.startsWith('/slow')) return setTimeout(() => res.end('slow ' + VERSION + '\\n'), 2000);
  res.end(VERSION + '\\n');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening ' + VERSION + ' after ' + performance.now().toFixed(1) + ' ms');
});
const stop = () => {
  closing = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;
}

/** Write the app at `version` into `dir` (created when missing). */
export function writeApp(dir: string, version: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, APP_FILE), appSource(version));
}

/** GET a path on 127.0.0.1:port; resolves with status and body, rejects on a socket error. */
export function get(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path} on port ${port} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Poll `/healthz` every `everyMs` until it answers 200; throws after `timeoutMs`. */
export async function waitHealthy(port: number, timeoutMs = 20_000, everyMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await get(port, '/healthz', 1000).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`the bench app on port ${port} did not answer /healthz within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Start the app directly (no supervisor) on `port`; stdout/stderr go to `logFile`'s fd. */
export function startDirect(dir: string, port: number, logFd: number): ChildProcess {
  return spawn(process.execPath, [APP_FILE], { cwd: dir, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', logFd, logFd] });
}

/** Send SIGTERM (graceful) and wait until the process has exited; SIGKILL after `graceMs`. */
export async function stopDirect(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
