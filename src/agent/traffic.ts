import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TrafficControl } from '../apply/context.js';
import { SymphonyError } from '../errors.js';
import { RouterClient } from '../router/client.js';
import { inheritableExecArgv, routerDirOf } from './paths.js';

const SOCKET_FILE = 'router.sock';

const ROUTER_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../router/main.ts' : '../router/main.js', import.meta.url));


/** Start the state dir's router as its own detached process unless one answers already. */
export async function ensureRouter(stateDir: string): Promise<RouterClient> {
  const dir = routerDirOf(stateDir);
  const client = new RouterClient(join(dir, SOCKET_FILE));
  const up = async (): Promise<boolean> => client.ping().then(() => true, () => false);
  if (await up()) return client;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(join(dir, 'router.out'), 'a');
  const metrics = process.env.SYMPHONY_ROUTER_METRICS_PORT;
  // Not the agent's own V8 flags (--no-opt would make the router's data path 3x more expensive).
  const args = [...inheritableExecArgv(), ROUTER_MAIN, dir, ...(metrics ? [metrics] : [])];
  spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] }).unref();
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    if (await up()) return client;
  }
  throw new SymphonyError(`the router for ${stateDir} did not start`, `look at ${join(dir, 'router.out')}`);
}

/** TrafficControl over the router's control socket; the router is started on first use. */
export function routerTraffic(stateDir: string): () => Promise<TrafficControl> {
  let client: Promise<RouterClient> | null = null;
  const get = (): Promise<RouterClient> => {
    client ??= ensureRouter(stateDir).catch((err: unknown) => {
      client = null;
      throw err;
    });
    return client;
  };
  return async () => {
    const c = await get();
    return {
      async setBackends(route, backends, sticky) {
        await c.setRoute({ id: route.id, listen: route.listen, host: route.host, pathPrefix: route.path, timeoutMs: route.timeoutMs, sticky: sticky ?? null, backends });
      },
      async releaseStats(release) {
        const rows = (await c.stats()).routes.flatMap((r) => r.releases).filter((r) => r.release === release);
        const p99s = rows.map((r) => r.p99Ms).filter((p): p is number => p !== null);
        return {
          requests: rows.reduce((n, r) => n + r.windowRequests, 0),
          errors: rows.reduce((n, r) => n + r.windowErrors, 0),
          p99Ms: p99s.length ? Math.max(...p99s) : null,
        };
      },
      async removeRoutesOf(env, service) {
        const cfg = await c.getConfig();
        for (const r of cfg.routes) {
          if (r.id.startsWith(`${env}:`) && r.backends.some((b) => new RegExp(`^${service}-[0-9a-f]{8}$`).test(b.release))) await c.removeRoute(r.id);
        }
      },
      async inFlight(release) {
        const stats = await c.stats();
        return stats.routes.flatMap((r) => r.releases).filter((r) => r.release === release).reduce((n, r) => n + r.inFlight, 0);
      },
      async closeLongLived(release) {
        return c.closeLongLived(release);
      },
    };
  };
}
