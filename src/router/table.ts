/**
 * Pure routing decisions: which route matches a request, which release takes it,
 * which upstream of that release. No sockets here; the proxy feeds in the state.
 */

/** What the picker needs to know about an upstream. */
export interface UpstreamLoad {
  healthy: boolean;
  inFlight: number;
}

export interface WeightedBackend<U> {
  release: string;
  weight: number;
  upstreams: U[];
}

export interface MatchableRoute {
  host?: string;
  pathPrefix?: string;
}

/** Most specific first: routes with a host before those without, then longer path prefixes first. */
export function bySpecificity(a: MatchableRoute, b: MatchableRoute): number {
  const hostA = a.host ? 1 : 0;
  const hostB = b.host ? 1 : 0;
  if (hostA !== hostB) return hostB - hostA;
  return (b.pathPrefix ?? '/').length - (a.pathPrefix ?? '/').length;
}

/** `Host` header without its port, lower case. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const colon = header.indexOf(':', header.startsWith('[') ? header.indexOf(']') : 0);
  return (colon === -1 ? header : header.slice(0, colon)).toLowerCase();
}

/** `/api` matches `/api`, `/api/x` and `/api?q`, never `/apix`. */
export function pathMatches(prefix: string | undefined, path: string): boolean {
  if (!prefix || prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.endsWith('/')) return true;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

/** First matching route of a list sorted by `bySpecificity`. */
export function matchRoute<R extends MatchableRoute>(routes: R[], host: string, path: string): R | undefined {
  for (const route of routes) {
    if (route.host && route.host.toLowerCase() !== host) continue;
    if (pathMatches(route.pathPrefix, path)) return route;
  }
  return undefined;
}

/** The backend whose cumulative weight covers `ticket` (0 <= ticket < 100); undefined when all weights are 0. */
export function pickByWeight<B extends { weight: number }>(backends: B[], ticket: number): B | undefined {
  let acc = 0;
  for (const b of backends) {
    acc += b.weight;
    if (ticket < acc) return b;
  }
  return undefined;
}

/** A sticky release is honoured only while it still takes traffic. */
export function stickyBackend<B extends { release: string; weight: number }>(backends: B[], release: string): B | undefined {
  for (const b of backends) if (b.release === release) return b.weight > 0 ? b : undefined;
  return undefined;
}

/** FNV-1a of a string, mapped to 0..99: the same client lands on the same release. */
export function hashTicket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}

/** Cookie that remembers a client's release for one route. */
export function stickyCookieName(routeId: string): string {
  return 'symphony_release_' + routeId.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Value of one cookie in a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let at = header.indexOf(name + '=');
  while (at !== -1) {
    if (at === 0 || header[at - 1] === ' ' || header[at - 1] === ';') {
      const start = at + name.length + 1;
      const end = header.indexOf(';', start);
      const raw = header.slice(start, end === -1 ? undefined : end).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
    at = header.indexOf(name + '=', at + 1);
  }
  return undefined;
}

/**
 * Least in flight among healthy upstreams not yet tried, starting at a rotating
 * offset so equal loads are served round-robin. Unhealthy ones are picked only
 * when no healthy one is left (their health may be stale); undefined when all were tried.
 */
export function pickUpstream<U extends UpstreamLoad>(upstreams: U[], rotation: number, tried: U[] | null): U | undefined {
  const n = upstreams.length;
  let best: U | undefined;
  let fallback: U | undefined;
  for (let i = 0; i < n; i++) {
    const u = upstreams[(rotation + i) % n];
    if (tried !== null && tried.includes(u)) continue;
    if (!u.healthy) {
      fallback ??= u;
      continue;
    }
    if (best === undefined || u.inFlight < best.inFlight) best = u;
  }
  return best ?? fallback;
}
