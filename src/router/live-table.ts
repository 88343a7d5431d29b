import type { ReleaseCounters, TrafficStats } from './stats.js';
import { bySpecificity, stickyCookieName } from './table.js';
import type { RouteConfig, RouterConfig } from './types.js';
import type { UpstreamRegistry, UpstreamState } from './upstreams.js';

/** Default time an upstream has to send response headers. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** A release as the request path sees it: live upstream states and its counters. */
export interface LiveBackend {
  release: string;
  weight: number;
  upstreams: UpstreamState[];
  counters: ReleaseCounters;
  rotation: number;
}

export interface LiveRoute {
  id: string;
  listen: number;
  /** Lower case, or undefined to match any host. */
  host: string | undefined;
  pathPrefix: string | undefined;
  timeoutMs: number;
  sticky: 'cookie' | 'hash' | null;
  cookieName: string;
  backends: LiveBackend[];
  /** The backend with weight 100, when there is one: no draw needed. */
  sole: LiveBackend | undefined;
}

export interface PortRoutes {
  routes: LiveRoute[];
  /** False when no route on the port names a host, so the Host header need not be parsed. */
  byHost: boolean;
}

/**
 * One immutable snapshot of the config, resolved to live objects. The proxy reads
 * the current snapshot once per request, so a request is routed wholly under one version.
 */
export interface LiveTable {
  version: number;
  ports: Map<number, PortRoutes>;
  upstreamKeys: Set<string>;
}

export function compileTable(config: RouterConfig, registry: UpstreamRegistry, stats: TrafficStats): LiveTable {
  const ports = new Map<number, PortRoutes>();
  const upstreamKeys = new Set<string>();
  for (const route of config.routes) {
    const live = compileRoute(route, registry, stats, upstreamKeys);
    let entry = ports.get(route.listen);
    if (!entry) {
      entry = { routes: [], byHost: false };
      ports.set(route.listen, entry);
    }
    entry.routes.push(live);
    if (live.host) entry.byHost = true;
  }
  for (const entry of ports.values()) entry.routes.sort(bySpecificity);
  return { version: config.version, ports, upstreamKeys };
}

function compileRoute(route: RouteConfig, registry: UpstreamRegistry, stats: TrafficStats, keys: Set<string>): LiveRoute {
  const backends = route.backends.map((b): LiveBackend => {
    const upstreams = b.upstreams.map((u) => {
      const state = registry.resolve(u);
      state.healthPath = route.healthPath;
      keys.add(state.key);
      return state;
    });
    return { release: b.release, weight: b.weight, upstreams, counters: stats.counters(route.id, b.release), rotation: 0 };
  });
  return {
    id: route.id,
    listen: route.listen,
    host: route.host?.toLowerCase(),
    pathPrefix: route.pathPrefix,
    timeoutMs: route.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    sticky: route.sticky ?? null,
    cookieName: stickyCookieName(route.id),
    backends,
    sole: backends.find((b) => b.weight === 100),
  };
}
