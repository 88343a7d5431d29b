import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TrafficControl } from '../apply/context.js';
import { SymphonyError } from '../errors.js';
import { RouterClient } from '../router/client.js';
import { DAEMON_PEERS } from '../router/peers.js';
import { ConfigStore } from '../router/store.js';
import { inheritableExecArgv, routerDirOf } from './paths.js';

const SOCKET_FILE = 'router.sock';

const ROUTER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../router/main.ts' : '../router/main.js', import.meta.url));


/** The control client of a state dir's router (whether or not one runs). */
export const routerClientOf = (stateDir: string): RouterClient => new RouterClient(join(routerDirOf(stateDir), SOCKET_FILE));

/**
 * Start the state dir's router as its own detached process group: DAEMON_PEERS processes
 * (a leader and its follower on the same sockets) unless SYMPHONY_ROUTER_PEERS says otherwise.
 * Resolves once a router's control socket answers, with the pid of the process started and of
 * the leader that answers (another, when a router process won the leader lock meanwhile).
 */
export async function spawnRouter(stateDir: string): Promise<{ spawned: number; leader: number }> {
  const dir = routerDirOf(stateDir);
  const client = routerClientOf(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(join(dir, 'router.out'), 'a');
  const metrics = process.env.SYMPHONY_ROUTER_METRICS_PORT;
  // Not the agent's own V8 flags (--no-opt would make the router's data path 3x more expensive).
  const args = [...inheritableExecArgv(), ROUTER_MAIN, dir, ...(metrics ? [metrics] : [])];
  const env = { ...process.env, SYMPHONY_ROUTER_PEERS: process.env.SYMPHONY_ROUTER_PEERS ?? String(DAEMON_PEERS) };
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env });
  child.unref();
  closeSync(out);
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    const leader = await client.ping().then((p) => p.pid, () => 0);
    if (leader) return { spawned: child.pid ?? 0, leader };
  }
  throw new SymphonyError(`the router for ${stateDir} did not start`, `look at ${join(dir, 'router.out')}`);
}

/** Start the state dir's router unless one answers already. */
export async function ensureRouter(stateDir: string): Promise<RouterClient> {
  const client = routerClientOf(stateDir);
  if (!(await client.ping().then(() => true, () => false))) await spawnRouter(stateDir);
  return client;
}

/**
 * TrafficControl over the router's control socket. Only giving a route its backends (or
 * judging a release by its traffic) starts a router: a stack with no route never runs one,
 * and removing routes or counting in-flight requests asks a router only if one runs.
 */
export function routerTraffic(stateDir: string): () => Promise<TrafficControl> {
  const client = routerClientOf(stateDir);
  const started = (): Promise<RouterClient> => ensureRouter(stateDir);
  const running = (): Promise<RouterClient | null> => client.ping().then(() => client, () => null);
  return async () => ({
    async setBackends(route, backends, sticky) {
      const c = await started();
      await c.setRoute({ id: route.id, listen: route.listen, host: route.host, pathPrefix: route.path, timeoutMs: route.timeoutMs, sticky: sticky ?? null, backends });
    },
    async releaseStats(release) {
      const c = await started();
      const rows = (await c.stats()).routes.flatMap((r) => r.releases).filter((r) => r.release === release);
      const p99s = rows.map((r) => r.p99Ms).filter((p): p is number => p !== null);
      return {
        requests: rows.reduce((n, r) => n + r.windowRequests, 0),
        errors: rows.reduce((n, r) => n + r.windowErrors, 0),
        p99Ms: p99s.length ? Math.max(...p99s) : null,
      };
    },
    async setUpstreams(release, upstreams) {
      const c = await running();
      if (!c) return;
      for (const r of (await c.getConfig()).routes) {
        if (!r.backends.some((b) => b.release === release)) continue;
        await c.setRoute({ ...r, backends: r.backends.map((b) => (b.release === release ? { ...b, upstreams } : b)) });
      }
    },
    async removeRoutesOf(env, service) {
      // A dead router's saved routes would come back with it: start it to remove them.
      const saved = await new ConfigStore(routerDirOf(stateDir)).load().catch(() => ({ routes: [] }));
      const c = (await running()) ?? (saved.routes.length > 0 ? await started() : null);
      if (!c) return;
      const cfg = await c.getConfig();
      for (const r of cfg.routes) {
        if (r.id.startsWith(`${env}:`) && r.backends.some((b) => new RegExp(`^${service}-[0-9a-f]{8}$`).test(b.release))) await c.removeRoute(r.id);
      }
    },
    async inFlight(release) {
      const c = await running();
      if (!c) return 0;
      const stats = await c.stats();
      return stats.routes.flatMap((r) => r.releases).filter((r) => r.release === release).reduce((n, r) => n + r.inFlight, 0);
    },
    async closeLongLived(release) {
      const c = await running();
      return c ? c.closeLongLived(release) : 0;
    },
  });
}
