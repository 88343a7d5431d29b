import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS_S, codeClasses, type CounterSnapshot } from './stats.js';

/** Where the counters come from at scrape time (this process, or merged from the worker processes). */
export type CounterSource = () => Promise<CounterSnapshot[]>;

type Labels = 'route' | 'release';
interface HistogramValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * Latency histogram filled from the router's own per-release buckets at scrape
 * time, so the request path never touches prom-client's label hashing.
 */
class ReleaseLatencyHistogram extends Histogram<Labels> {
  constructor(private readonly source: CounterSource, registry: Registry) {
    super({
      name: 'symphony_router_request_duration_seconds',
      help: 'Time from request received to response finished, by route and release',
      labelNames: ['route', 'release'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    });
  }

  async snapshot(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const name = 'symphony_router_request_duration_seconds';
    const values: HistogramValue[] = [];
    for (const c of await this.source()) {
      let acc = 0;
      for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
        acc += c.buckets[i];
        values.push({ labels: { le: LATENCY_BUCKETS_S[i], route: c.route, release: c.release }, value: acc, metricName: `${name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', route: c.route, release: c.release }, value: c.requests, metricName: `${name}_bucket` });
      values.push({ labels: { route: c.route, release: c.release }, value: c.latencySum, metricName: `${name}_sum` });
      values.push({ labels: { route: c.route, release: c.release }, value: c.requests, metricName: `${name}_count` });
    }
    return { name, help: 'Time from request received to response finished, by route and release', type: 'histogram', aggregator: 'sum', values };
  }

  /** prom-client's text exposition calls this one when it exists. */
  async getForPromString(): Promise<Awaited<ReturnType<ReleaseLatencyHistogram['snapshot']>>> {
    return this.snapshot();
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<Labels>['get']>>> {
    return (await this.snapshot()) as unknown as Awaited<ReturnType<Histogram<Labels>['get']>>;
  }
}

/** The same snapshot for every metric of one scrape: one read (one round of IPC) per scrape. */
function oncePerScrape(source: CounterSource): CounterSource {
  let pending: Promise<CounterSnapshot[]> | null = null;
  return () => {
    if (pending === null) {
      pending = source();
      setTimeout(() => (pending = null), 50).unref();
    }
    return pending;
  };
}

/** Prometheus registry over the router's counters. */
export function createRouterMetrics(read: CounterSource): Registry {
  const source = oncePerScrape(read);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'symphony_router_' });
  new Counter({
    name: 'symphony_router_requests_total',
    help: 'Requests by route, release and status class (error = no status, the socket failed)',
    labelNames: ['route', 'release', 'code'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await source()) for (const [code, n] of codeClasses(c)) this.inc({ route: c.route, release: c.release, code }, n);
    },
  });
  new Counter({
    name: 'symphony_router_errors_total',
    help: 'Responses with status 5xx plus socket errors, by route and release',
    labelNames: ['route', 'release'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await source()) this.inc({ route: c.route, release: c.release }, c.errors);
    },
  });
  new Gauge({
    name: 'symphony_router_in_flight',
    help: 'Requests in flight by route and release',
    labelNames: ['route', 'release'],
    registers: [registry],
    async collect() {
      for (const c of await source()) this.set({ route: c.route, release: c.release }, c.inFlight);
    },
  });
  new Gauge({
    name: 'symphony_router_long_lived',
    help: 'Open WebSocket tunnels and SSE streams by route and release',
    labelNames: ['route', 'release'],
    registers: [registry],
    async collect() {
      for (const c of await source()) this.set({ route: c.route, release: c.release }, c.longLived);
    },
  });
  new ReleaseLatencyHistogram(source, registry);
  return registry;
}

/** Serve `/metrics` on 127.0.0.1:port. */
export async function serveMetrics(registry: Registry, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics lives here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
