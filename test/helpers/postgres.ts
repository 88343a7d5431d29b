import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresKind, PASSWORD_ENV } from '../../src/kinds/postgres/index.js';
import type { KindContext } from '../../src/kinds/types.js';
import { ProcessDriver } from '../../src/runtime/process/index.js';
import type { InstanceHandle } from '../../src/runtime/types.js';
import { freePort } from '../../src/util/ports.js';

/** A postgres server started through the postgres kind and the process driver, on its own temp volume. */
export interface TestPostgres {
  ctx: KindContext;
  port: number;
  password: string;
  url: string;
  root: string;
  driver: ProcessDriver;
  handle: InstanceHandle;
  /** Stop the server (keeps the volume). */
  stop(): Promise<void>;
  /** Start it again on the same volume. */
  start(): Promise<void>;
  /** Stop and remove every file. */
  destroy(): Promise<void>;
}

export interface TestPostgresOptions {
  stack?: string;
  settings?: Record<string, string>;
  version?: string;
}

export async function waitReady(ctx: KindContext, env: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let detail = '';
  while (Date.now() < deadline) {
    const res = await postgresKind.probe!(ctx, postgresKind.instances(ctx)[0], env);
    if (res.ok) return;
    detail = res.detail;
    await sleep(100);
  }
  throw new Error(`postgres did not become ready: ${detail}`);
}

export async function startTestPostgres(opts: TestPostgresOptions = {}): Promise<TestPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'sym-pg-'));
  chmodSync(root, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('base64url');
  const stack = opts.stack ?? 'shop';
  const ctx: KindContext = {
    stack, env: 'test', service: 'db',
    spec: { postgres: { version: opts.version ?? '15', settings: opts.settings ?? { fsync: 'off' } } },
    stackDir: root, volumePath: join(root, 'volumes', 'db'), ports: { port },
  };
  const env = { [PASSWORD_ENV]: password };
  const driver = new ProcessDriver({ scope: join(root, 'state') });
  const draft = postgresKind.instances(ctx)[0];
  const t: TestPostgres = {
    ctx, port, password, root, driver,
    handle: { id: '', pid: 0, startTime: 0 },
    url: `postgres://${stack.replace(/-/g, '_')}:${encodeURIComponent(password)}@127.0.0.1:${port}/${stack.replace(/-/g, '_')}`,
    async start() {
      await postgresKind.prepare!(ctx, env, driver);
      t.handle = await driver.start({
        id: `db-test-${port}`, service: 'db', release: 'r1', command: draft.command, cwd: draft.cwd,
        env: { ...draft.env, ...env }, port, logDir: join(root, 'logs'),
      });
      await waitReady(ctx, env);
    },
    async stop() {
      if (t.handle.pid) await driver.stop(t.handle, { graceMs: 10_000 });
    },
    async destroy() {
      await t.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await t.start();
  return t;
}
