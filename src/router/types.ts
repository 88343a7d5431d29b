/** One instance of a release, reachable over HTTP. `id` is the instance id. */
export interface Upstream {
  id: string;
  host: string;
  port: number;
}

/** The instances of one release behind a route, with its share of the traffic. */
export interface Backend {
  release: string;
  /** 0..100; the weights of a route sum to 100, or are all 0 (no traffic). */
  weight: number;
  upstreams: Upstream[];
}

/** Where a route listens, what it matches, and how its traffic is split between releases. */
export interface RouteConfig {
  id: string;
  /** Port on 127.0.0.1. Several routes may share a port and differ by host or path prefix. */
  listen: number;
  host?: string;
  pathPrefix?: string;
  /** Time allowed for the upstream to send response headers; 504 after it. Default 60 s. */
  timeoutMs?: number;
  /** 'cookie': a cookie names the release; 'hash': the client IP picks it. */
  sticky?: 'cookie' | 'hash' | null;
  /** GET this path for active health checks; without it a TCP connect is the check. */
  healthPath?: string;
  backends: Backend[];
}

/** The whole data-plane config. `version` grows by one on every change. */
export interface RouterConfig {
  version: number;
  routes: RouteConfig[];
}

/** Traffic seen by one release on one route. */
export interface ReleaseTraffic {
  release: string;
  weight: number;
  inFlight: number;
  /** Totals since the router started. */
  requests: number;
  /** 5xx responses plus socket errors (upstream or client side). */
  errors: number;
  /** Requests and errors over the latency window only. */
  windowRequests: number;
  windowErrors: number;
  /** Latency in milliseconds over the window; null without samples. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Open WebSocket tunnels and SSE streams. */
  longLived: number;
}

export interface RouteTraffic {
  id: string;
  listen: number;
  paused: boolean;
  releases: ReleaseTraffic[];
}

/**
 * Cumulative counters of one release on one route since the router started, summed over its
 * processes: every release ever routed, not only configured ones (what a Prometheus exporter reads).
 */
export interface ReleaseTotals {
  route: string;
  release: string;
  requests: number;
  /** Requests by status class: `1xx`..`5xx`, and `error` for a socket error before any status. */
  byCode: Record<string, number>;
  /** Requests per latency bucket (not cumulative), bounds in `RouterStats.latencyBucketsS`. */
  buckets: number[];
  latencySumS: number;
}

/** Answer of `stats()`: per route and release. */
export interface RouterStats {
  version: number;
  windowMs: number;
  routes: RouteTraffic[];
  /** Upper bounds (seconds) of the latency buckets of `totals`; requests above the last fall in +Inf only. */
  latencyBucketsS: number[];
  totals: ReleaseTotals[];
  upstreams: { key: string; healthy: boolean; inFlight: number; lastError: string | null }[];
}
