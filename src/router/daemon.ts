import { chmod, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';
import { RouterClient } from './client.js';
import { createControlServer } from './control.js';
import { DataPlane } from './data-plane.js';
import { RouterRunningError } from './errors.js';
import { HEALTH_INTERVAL_MS, startActiveHealth } from './health.js';
import { createRouterMetrics, serveMetrics } from './metrics.js';
import { ConfigStore } from './store.js';

/** Name of the control socket inside the router's directory. */
export const SOCKET_FILE = 'router.sock';

export interface RouterOptions {
  /** Config (router.json), control socket (router.sock) and log (router.log) live here. */
  dir: string;
  /** Serve Prometheus `/metrics` on 127.0.0.1:metricsPort. */
  metricsPort?: number;
  /** Time between active health checks of each upstream; default 1000 ms. */
  healthIntervalMs?: number;
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  try {
    const { pid } = await new RouterClient(socketPath).ping();
    throw new RouterRunningError(socketPath, pid);
  } catch (err) {
    if (err instanceof RouterRunningError) throw err;
  }
  await unlink(socketPath).catch(() => undefined);
}

/**
 * Start the router in this process: restore the saved routes, open their ports,
 * serve the control API on `<dir>/router.sock` (mode 0600) and metrics when asked.
 */
export async function startRouter(opts: RouterOptions): Promise<{ socketPath: string; close(): Promise<void> }> {
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const socketPath = join(opts.dir, SOCKET_FILE);
  await removeStaleSocket(socketPath);
  const log = createLogger('router', join(opts.dir, 'router.log'));
  const store = new ConfigStore(opts.dir);
  const plane = new DataPlane(store, log);
  await plane.restore(await store.load());
  const stopHealth = startActiveHealth(plane.upstreams, opts.healthIntervalMs ?? HEALTH_INTERVAL_MS);

  const control = createControlServer(plane);
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);

  let metrics: Server | undefined;
  if (opts.metricsPort !== undefined) metrics = await serveMetrics(createRouterMetrics(plane.stats), opts.metricsPort);
  log.info({ pid: process.pid, socketPath, version: plane.getConfig().version, metricsPort: opts.metricsPort }, 'router started');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      stopHealth();
      await new Promise<void>((resolve) => {
        control.close(() => resolve());
        control.closeAllConnections();
      });
      if (metrics) await new Promise<void>((resolve) => metrics.close(() => resolve()));
      await plane.close();
      log.info('router stopped');
      log.flush();
    })());
  return { socketPath, close };
}
