import { openSync } from 'node:fs';
import { dirIdentity } from '../util/dir-identity.js';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';
import { RouterClient } from './client.js';
import { ControlPlane } from './control-plane.js';
import { createControlServer, type RouterInfo } from './control.js';
import { DataPlane, type PlaneLink } from './data-plane.js';
import { RouterRunningError } from './errors.js';
import { HEALTH_INTERVAL_MS } from './health.js';
import { createRouterMetrics, serveMetrics } from './metrics.js';
import { PeerPlane } from './peer-plane.js';
import { acquireLeaderLock, peerCount, readTakeovers } from './peers.js';
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
   * Router processes that accept on the listening sockets (see ./peers.ts). 1 (the default;
   * env SYMPHONY_ROUTER_PEERS overrides it): this process alone. N > 1: this process leads
   * and N − 1 followers accept beside it, so any one of them can die without a gap.
   */
  peers?: number;
  /** A follower taking over: its data plane, already serving the sockets, and the lock it took. */
  takeover?: { plane: DataPlane; lock: NetServer };
}

export interface RunningRouter {
  socketPath: string;
  close(): Promise<void>;
}

/** How often ports of routes that could not open are tried again. */
const REOPEN_MS = 2000;

async function holderPid(socketPath: string): Promise<number> {
  return new RouterClient(socketPath).ping().then((p) => p.pid, () => 0);
}

/**
 * Start the router in this process as the leader of its dir: take the leader lock, restore
 * the saved routes, open their ports, serve the control API on `<dir>/router.sock` (0600)
 * and metrics when asked, then start the followers in the background.
 */
export async function startRouter(opts: RouterOptions): Promise<RunningRouter> {
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const socketPath = join(opts.dir, SOCKET_FILE);
  const lock = opts.takeover?.lock ?? (await acquireLeaderLock(opts.dir));
  if (!lock) throw new RouterRunningError(socketPath, await holderPid(socketPath));
  // Only the lock holder serves the control socket: a file left there is a dead leader's.
  await unlink(socketPath).catch(() => undefined);
  const log = createLogger('router', join(opts.dir, 'router.log'));
  const store = new ConfigStore(opts.dir);
  const healthIntervalMs = opts.healthIntervalMs ?? HEALTH_INTERVAL_MS;
  const peers = peerCount(opts.peers);
  const local = opts.takeover?.plane ?? new DataPlane({ healthIntervalMs, ownsPorts: true });
  local.takeOwnership();
  const peerPlane = peers > 1 ? new PeerPlane(local, { dir: opts.dir, followers: peers - 1, healthIntervalMs, logFd: openSync(join(opts.dir, 'router.out'), 'a'), log }) : null;
  const link: PlaneLink = peerPlane ?? local;
  const plane = new ControlPlane(store, link, log);
  const startedAt = new Date().toISOString();
  const servedDir = dirIdentity(opts.dir);
  const info = (): RouterInfo => ({ pid: process.pid, version: plane.getConfig().version, startedAt, takeovers: readTakeovers(opts.dir), peers: [process.pid, ...(peerPlane?.pids() ?? [])], followersReplaced: peerPlane?.replaced ?? 0, listening: local.listeningPorts() });
  const control = createControlServer(plane, info);
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
    lock.close();
    throw err;
  }
  log.info({ pid: process.pid, socketPath, version: plane.getConfig().version, metricsPort: opts.metricsPort, peers, takeover: opts.takeover !== undefined }, 'router started');
  void peerPlane?.startFollowers();

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      clearInterval(dirWatch);
      clearInterval(reopen);
      await new Promise<void>((resolve) => {
        control.close(() => resolve());
        control.closeAllConnections();
      });
      if (metrics) await new Promise<void>((resolve) => metrics.close(() => resolve()));
      await plane.close();
      lock.close();
      log.info('router stopped');
      log.flush();
    })());
  // A router whose dir was deleted (its state dir destroyed) has nothing left to serve. The
  // dir's inode tells a dir made again by someone else from the one this router serves.
  const dirWatch = setInterval(() => {
    if (dirIdentity(opts.dir) === servedDir) return;
    log.warn({ dir: opts.dir }, 'router dir is gone; stopping');
    void close().then(() => process.exit(0));
  }, 2000);
  dirWatch.unref();
  const reopen = setInterval(() => void plane.reopenMissing(local.listeningPorts()), REOPEN_MS);
  reopen.unref();
  return { socketPath, close };
}
