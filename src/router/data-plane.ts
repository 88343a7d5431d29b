import type { Logger } from '../util/log.js';
import type { DataPlaneView } from './dispatch.js';
import { RouteInvalidError, RouteNotFoundError } from './errors.js';
import { Listeners } from './listeners.js';
import { compileTable, type LiveTable } from './live-table.js';
import { LongLivedSet } from './long-lived.js';
import { RoutePauses } from './pause.js';
import { TrafficStats, WINDOW_S } from './stats.js';
import type { ConfigStore } from './store.js';
import type { ReleaseTraffic, RouteConfig, RouterConfig, RouterStats } from './types.js';
import { UpstreamRegistry } from './upstreams.js';
import { parseRoute, sameMatch } from './validate.js';

/**
 * The router's state: config, the live table the proxy reads, listeners, upstreams,
 * counters. Every change is validated, persisted, then swapped in as one new table,
 * one change at a time.
 */
export class DataPlane implements DataPlaneView {
  table: LiveTable = { version: 0, ports: new Map(), upstreamKeys: new Set() };
  readonly pauses = new RoutePauses();
  readonly longLived = new LongLivedSet();
  readonly stats = new TrafficStats();
  readonly upstreams = new UpstreamRegistry();
  private readonly listeners = new Listeners(this);
  private config: RouterConfig = { version: 0, routes: [] };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: ConfigStore, private readonly log: Logger) {}

  /** Serve a config read from disk; a route whose port cannot be opened is logged and kept. */
  async restore(config: RouterConfig): Promise<void> {
    for (const route of config.routes) {
      await this.listeners.ensure(route.listen, route.id).catch((err: Error) => this.log.error({ route: route.id }, err.message));
    }
    this.install(config);
  }

  getConfig(): RouterConfig {
    return structuredClone(this.config);
  }

  /** Replace or add a route atomically; opens its port first when new. */
  setRoute(input: unknown): Promise<RouterConfig> {
    return this.serial(async () => {
      const route = parseRoute(input);
      const clash = this.config.routes.find((r) => r.id !== route.id && sameMatch(r, route));
      if (clash) throw new RouteInvalidError(route.id, [`route ${clash.id} already matches the same port, host and path prefix`]);
      await this.listeners.ensure(route.listen, route.id);
      const routes = this.config.routes.some((r) => r.id === route.id)
        ? this.config.routes.map((r) => (r.id === route.id ? route : r))
        : [...this.config.routes, route];
      return this.commit(routes, { route: route.id, split: route.backends.map((b) => `${b.release}=${b.weight}`).join(',') });
    });
  }

  removeRoute(id: string): Promise<RouterConfig> {
    return this.serial(async () => {
      if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
      this.pauses.resume(id);
      return this.commit(
        this.config.routes.filter((r) => r.id !== id),
        { route: id, removed: true },
      );
    });
  }

  pause(id: string, timeoutMs: number): void {
    if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
    this.pauses.pause(id, timeoutMs);
    this.log.info({ route: id, timeoutMs }, 'route paused');
  }

  resume(id: string): number {
    if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
    const n = this.pauses.resume(id);
    this.log.info({ route: id, released: n }, 'route resumed');
    return n;
  }

  closeLongLived(release: string): number {
    const n = this.longLived.closeRelease(release);
    this.log.info({ release, closed: n }, 'long-lived connections closed');
    return n;
  }

  snapshotStats(): RouterStats {
    const routes = this.config.routes.map((route: RouteConfig) => {
      const releases: ReleaseTraffic[] = [];
      const seen = new Set<string>();
      const add = (release: string, weight: number): void => {
        seen.add(release);
        const c = this.stats.counters(route.id, release);
        const w = c.window();
        releases.push({
          release,
          weight,
          inFlight: c.inFlight,
          requests: c.requests,
          errors: c.errors,
          windowRequests: w.requests,
          windowErrors: w.errors,
          p50Ms: w.p50Ms,
          p99Ms: w.p99Ms,
          longLived: c.longLived,
        });
      };
      for (const b of route.backends) add(b.release, b.weight);
      for (const c of this.stats.all()) {
        if (c.route === route.id && !seen.has(c.release) && (c.inFlight > 0 || c.longLived > 0)) add(c.release, 0);
      }
      return { id: route.id, listen: route.listen, paused: this.pauses.isPaused(route.id), releases };
    });
    const upstreams = this.upstreams.all().map((u) => ({ key: u.key, healthy: u.healthy, inFlight: u.inFlight, lastError: u.lastError }));
    return { version: this.config.version, windowMs: WINDOW_S * 1000, routes, upstreams };
  }

  async close(): Promise<void> {
    this.pauses.resumeAll();
    this.longLived.closeAll();
    await this.listeners.closeAll();
    this.upstreams.closeAll();
  }

  private async commit(routes: RouteConfig[], what: Record<string, unknown>): Promise<RouterConfig> {
    const next: RouterConfig = { version: this.config.version + 1, routes };
    try {
      await this.store.save(next);
    } catch (err) {
      this.listeners.closeUnused(new Set(this.config.routes.map((r) => r.listen)));
      throw err;
    }
    this.install(next);
    this.log.info({ ...what, version: next.version }, 'route set');
    return this.getConfig();
  }

  private install(config: RouterConfig): void {
    this.config = config;
    this.table = compileTable(config, this.upstreams, this.stats);
    this.upstreams.setActive(this.table.upstreamKeys);
    this.listeners.closeUnused(new Set(this.table.ports.keys()));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
