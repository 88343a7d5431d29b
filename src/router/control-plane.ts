import type { Logger } from '../util/log.js';
import type { PlaneLink, PlaneSnapshot } from './data-plane.js';
import { RouteInvalidError, RouteNotFoundError } from './errors.js';
import { LATENCY_BUCKETS_S, WINDOW_S, codeClasses, percentiles, type CounterSnapshot } from './stats.js';
import type { ConfigStore } from './store.js';
import type { ReleaseTraffic, RouteConfig, RouterConfig, RouterStats } from './types.js';
import { parseRoute, sameMatch } from './validate.js';

/**
 * The router's config and its changes: every change is validated, persisted, then
 * installed in the data plane(s) as one new table, one change at a time.
 */
export class ControlPlane {
  private config: RouterConfig = { version: 0, routes: [] };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: ConfigStore, private readonly plane: PlaneLink, private readonly log: Logger) {}

  /** Serve a config read from disk; a route whose port cannot be opened is logged and kept. */
  async restore(config: RouterConfig): Promise<void> {
    for (const route of config.routes) {
      await this.plane.open(route.listen, route.id).catch((err: Error) => this.log.error({ route: route.id }, err.message));
    }
    this.config = config;
    await this.plane.install(config);
  }

  /**
   * Open again the ports of routes that are not listening (taken by another process when the
   * router started): retried by the daemon, so a route comes back once its port is free.
   */
  reopenMissing(listening: readonly number[]): Promise<number> {
    return this.serial(async () => {
      let opened = 0;
      for (const route of this.config.routes) {
        if (listening.includes(route.listen)) continue;
        try {
          await this.plane.open(route.listen, route.id);
          opened++;
          this.log.info({ route: route.id, listen: route.listen }, 'route port opened after a retry');
        } catch {
          // Still taken: the next retry tries again; status shows the route as not listening.
        }
      }
      if (opened > 0) await this.plane.install(this.config);
      return opened;
    });
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
      try {
        await this.plane.open(route.listen, route.id);
      } catch (err) {
        await this.plane.closeUnused(this.ports());
        throw err;
      }
      const routes = this.config.routes.some((r) => r.id === route.id)
        ? this.config.routes.map((r) => (r.id === route.id ? route : r))
        : [...this.config.routes, route];
      return this.commit(routes, { route: route.id, split: route.backends.map((b) => `${b.release}=${b.weight}`).join(',') });
    });
  }

  removeRoute(id: string): Promise<RouterConfig> {
    return this.serial(async () => {
      if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
      await this.plane.resume(id);
      return this.commit(
        this.config.routes.filter((r) => r.id !== id),
        { route: id, removed: true },
      );
    });
  }

  async pause(id: string, timeoutMs: number): Promise<void> {
    if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
    await this.plane.pause(id, timeoutMs);
    this.log.info({ route: id, timeoutMs }, 'route paused');
  }

  async resume(id: string): Promise<number> {
    if (!this.config.routes.some((r) => r.id === id)) throw new RouteNotFoundError(id);
    const n = await this.plane.resume(id);
    this.log.info({ route: id, released: n }, 'route resumed');
    return n;
  }

  async closeLongLived(release: string): Promise<number> {
    const n = await this.plane.closeLongLived(release);
    this.log.info({ release, closed: n }, 'long-lived connections closed');
    return n;
  }

  /** Counters of every release, for metrics. */
  async counters(): Promise<CounterSnapshot[]> {
    return (await this.plane.snapshot()).counters;
  }

  async snapshotStats(): Promise<RouterStats> {
    const snap = await this.plane.snapshot();
    const config = this.config;
    return {
      version: config.version,
      windowMs: WINDOW_S * 1000,
      routes: config.routes.map((r) => routeTraffic(r, snap)),
      upstreams: snap.upstreams,
      latencyBucketsS: LATENCY_BUCKETS_S,
      totals: snap.counters.map((c) => ({ route: c.route, release: c.release, requests: c.requests, byCode: Object.fromEntries(codeClasses(c)), buckets: c.buckets, latencySumS: c.latencySum })),
    };
  }

  async close(): Promise<void> {
    await this.plane.close();
  }

  private ports(): number[] {
    return this.config.routes.map((r) => r.listen);
  }

  private async commit(routes: RouteConfig[], what: Record<string, unknown>): Promise<RouterConfig> {
    const next: RouterConfig = { version: this.config.version + 1, routes };
    try {
      await this.store.save(next);
    } catch (err) {
      await this.plane.closeUnused(this.ports());
      throw err;
    }
    this.config = next;
    await this.plane.install(next);
    this.log.info({ ...what, version: next.version }, 'route set');
    return this.getConfig();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Traffic of one route: its releases, plus releases no longer configured that still have requests in flight. */
function routeTraffic(route: RouteConfig, snap: PlaneSnapshot): RouterStats['routes'][number] {
  const releases: ReleaseTraffic[] = [];
  const seen = new Set<string>();
  const add = (release: string, weight: number, c: CounterSnapshot | undefined): void => {
    seen.add(release);
    const p = c ? percentiles(c) : { p50Ms: null, p99Ms: null };
    releases.push({
      release,
      weight,
      inFlight: c?.inFlight ?? 0,
      requests: c?.requests ?? 0,
      errors: c?.errors ?? 0,
      windowRequests: c?.windowRequests ?? 0,
      windowErrors: c?.windowErrors ?? 0,
      p50Ms: p.p50Ms,
      p99Ms: p.p99Ms,
      longLived: c?.longLived ?? 0,
    });
  };
  const mine = snap.counters.filter((c) => c.route === route.id);
  for (const b of route.backends) add(b.release, b.weight, mine.find((c) => c.release === b.release));
  for (const c of mine) if (!seen.has(c.release) && (c.inFlight > 0 || c.longLived > 0)) add(c.release, 0, c);
  return { id: route.id, listen: route.listen, paused: snap.paused.includes(route.id), releases };
}
