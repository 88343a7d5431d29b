import { chmod, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';
import { RouterClient } from './client.js';
import { ClusterPlane } from './cluster-plane.js';
import { ControlPlane } from './control-plane.js';
import { createControlServer } from './control.js';
import { DataPlane, type PlaneLink } from './data-plane.js';
import { RouterRunningError } from './errors.js';
import { HEALTH_INTERVAL_MS } from './health.js';
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
  /**
   * Processes that serve traffic. 1 (the default; env SYMPHONY_ROUTER_WORKERS overrides it):
   * this process. N > 1: N node:cluster workers share the listening sockets; this process
   * keeps the control API, persistence and metrics, and sums the workers' counters.
   */
  workers?: number;
}

/** Worker count from the option, else SYMPHONY_ROUTER_WORKERS, else 1. */
export function workerCount(opts: RouterOptions): number {
  const n = opts.workers ?? Number(process.env.SYMPHONY_ROUTER_WORKERS ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
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
  const healthIntervalMs = opts.healthIntervalMs ?? HEALTH_INTERVAL_MS;
  const workers = workerCount(opts);
  const link: PlaneLink = workers > 1 ? await ClusterPlane.start(workers, healthIntervalMs, log) : new DataPlane({ healthIntervalMs, shared: false });
  const plane = new ControlPlane(store, link, log);
  const control = createControlServer(plane);
  let metrics: Server | undefined;
  try {
    await plane.restore(await store.load());
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject);
      control.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
    if (opts.metricsPort !== undefined) metrics = await serveMetrics(createRouterMetrics(() => plane.counters()), opts.metricsPort);
  } catch (err) {
    control.close();
    await plane.close();
    throw err;
  }
  log.info({ pid: process.pid, socketPath, version: plane.getConfig().version, metricsPort: opts.metricsPort, workers }, 'router started');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
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
