import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecDeps } from '../apply/context.js';
import { pidAlive } from '../util/pid.js';
import { acquireLeaderLock } from '../router/peers.js';
import { ConfigStore } from '../router/store.js';
import type { RouterConfig } from '../router/types.js';
import { routerDirOf } from './paths.js';
import type { DriftItem } from './status.js';
import { routerClientOf, spawnRouter } from './traffic.js';

/** How often the agent looks at its router. A dead router is started again within one tick plus its start. */
export const ROUTER_WATCH_MS = 250;
/** A route's listener that does not accept a connection within this is reported as not answering. */
const CONNECT_TIMEOUT_MS = 1000;
/** A router left with no route (every stack destroyed) is stopped after this long idle. */
export const ROUTER_IDLE_MS = 10_000;

/** One route's listen port as the agent observes it. */
export interface ListenerCheck {
  route: string;
  listen: number;
  /** A TCP connection to 127.0.0.1:<listen> was accepted. */
  answers: boolean;
  /** Why the route cannot be served, or null. */
  problem: string | null;
}

/** The router as `status` shows it. */
export interface RouterStatus {
  running: boolean;
  pid: number | null;
  startedAt: string | null;
  uptimeS: number | null;
  /** Router processes accepting on the listening sockets, the leader first. */
  peers: number[];
  /** Times the agent started the router again after it was found dead. */
  restarts: number;
  lastRestartAt: string | null;
  /** Times a follower took over from a dead leader. */
  takeovers: number;
  routes: number;
  listeners: ListenerCheck[];
}

interface Supervision {
  restarts: number;
  lastRestartAt: string | null;
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * The agent's supervision of its router, like an instance's: every tick it pings the
 * router; when no router process answers and none holds the leader lock (a follower taking
 * over holds it) while the saved config has routes, it starts the router again with that
 * config, counts the restart in `<router dir>/supervision.json` and records a
 * `router-restarted` event in every environment with a route. It also connects to each
 * route's port: status and drift report a route the router does not listen on or that
 * does not answer.
 */
export class RouterWatch {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private last: RouterStatus;
  private readonly dir: string;
  private idleSince: number | null = null;

  /** `busy`: an operation runs (it may be about to give the router its first route). */
  constructor(private readonly deps: ExecDeps, private readonly busy: () => boolean, private readonly intervalMs = ROUTER_WATCH_MS) {
    this.dir = routerDirOf(deps.stateDir);
    this.last = { running: false, pid: null, startedAt: null, uptimeS: null, peers: [], takeovers: 0, routes: 0, listeners: [], ...this.supervision() };
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  /** Stop watching; resolves once a look in progress ended (so nothing starts the router after). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One look (joins a look in progress). */
  tick(): Promise<void> {
    this.running ??= this.look()
      .catch((err: unknown) => this.deps.log.error({ err: String(err) }, 'router watch failed'))
      .finally(() => (this.running = null));
    return this.running;
  }

  status(): RouterStatus {
    return this.last;
  }

  /** What drift reports about the router of `env`'s routes. */
  driftItems(env: string): DriftItem[] {
    const mine = this.last.listeners.filter((l) => l.route.startsWith(`${env}:`));
    if (mine.length === 0) return [];
    if (!this.last.running) return [{ service: null, instance: null, recorded: `router serving ${mine.length} route(s)`, observed: 'no router process answers' }];
    return mine.filter((l) => l.problem).map((l) => ({ service: null, instance: null, recorded: `route ${l.route} on 127.0.0.1:${l.listen}`, observed: l.problem ?? '' }));
  }

  private supervision(): Supervision {
    try {
      const s = JSON.parse(readFileSync(join(this.dir, 'supervision.json'), 'utf8')) as Partial<Supervision>;
      return { restarts: Number(s.restarts) || 0, lastRestartAt: typeof s.lastRestartAt === 'string' ? s.lastRestartAt : null };
    } catch {
      return { restarts: 0, lastRestartAt: null };
    }
  }

  private async look(): Promise<void> {
    const config = await new ConfigStore(this.dir).load().catch((): RouterConfig => ({ version: 0, routes: [] }));
    let info = await routerClientOf(this.deps.stateDir).ping().catch(() => null);
    if (!info && config.routes.length > 0 && (await this.lockFree())) {
      const { spawned, leader } = await spawnRouter(this.deps.stateDir);
      info = await routerClientOf(this.deps.stateDir).ping().catch(() => null);
      // Another process may have won the lock meanwhile (a follower taking over): not our restart.
      if (spawned === leader) this.recordRestart(config, leader);
    }
    if (info && config.routes.length === 0 && !this.busy()) {
      this.idleSince ??= Date.now();
      if (Date.now() - this.idleSince >= ROUTER_IDLE_MS) {
        this.deps.log.info({ pid: info.pid }, 'router has no route left; stopping it');
        await this.stopRouter();
        info = null;
      }
    } else this.idleSince = null;
    const sup = this.supervision();
    const listeners = await Promise.all(
      config.routes.map(async (r): Promise<ListenerCheck> => {
        const answers = await tcpAnswers(r.listen);
        const listened = info?.listening.includes(r.listen) ?? false;
        const problem = !info ? 'no router process answers' : !listened ? `the router could not open port ${r.listen}${answers ? ' (another process listens on it)' : ''}` : !answers ? `port ${r.listen} does not accept connections` : null;
        return { route: r.id, listen: r.listen, answers, problem };
      }),
    );
    this.last = {
      running: info !== null,
      pid: info?.pid ?? null,
      startedAt: info?.startedAt ?? null,
      uptimeS: info ? Math.round((Date.now() - Date.parse(info.startedAt)) / 1000) : null,
      peers: info?.peers ?? [],
      takeovers: info?.takeovers ?? this.last.takeovers,
      routes: config.routes.length,
      listeners,
      ...sup,
    };
  }

  /** Stop every router process of this state dir ({@link stopRouterOf}). */
  stopRouter(): Promise<boolean> {
    return stopRouterOf(this.deps.stateDir);
  }

  /** True when no router process holds the leader lock (taking it for a moment to know). */
  private async lockFree(): Promise<boolean> {
    const lock = await acquireLeaderLock(this.dir);
    if (!lock) return false;
    await new Promise<void>((resolve) => lock.close(() => resolve()));
    return true;
  }

  private recordRestart(config: RouterConfig, pid: number): void {
    const sup = this.supervision();
    const next: Supervision = { restarts: sup.restarts + 1, lastRestartAt: new Date().toISOString() };
    writeFileSync(join(this.dir, 'supervision.json'), JSON.stringify(next) + '\n');
    this.deps.log.warn({ pid, restarts: next.restarts }, 'router was dead; started it again with its saved routes');
    const envs = new Set(config.routes.map((r) => r.id.split(':')[0]));
    for (const env of envs) this.deps.store.addEvent(env, 'router-restarted', `router was not running; started it again (pid ${pid}, restart #${next.restarts}) with ${config.routes.length} saved route(s)`);
  }
}

/**
 * Stop every router process of a state dir: SIGTERM to the leader closes its followers;
 * whatever is left after 5 s is killed. True when a router was running.
 */
export async function stopRouterOf(stateDir: string): Promise<boolean> {
  const info = await routerClientOf(stateDir).ping().catch(() => null);
  if (!info) return false;
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal(info.pid, 'SIGTERM');
  const until = Date.now() + 5000;
  while (info.peers.some(pidAlive) && Date.now() < until) await sleep(50);
  for (const pid of info.peers) if (pidAlive(pid)) signal(pid, 'SIGKILL');
  return true;
}
