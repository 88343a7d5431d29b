import { performance } from 'node:perf_hooks';

/** Upper bounds (seconds) of the latency histogram exported to Prometheus. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Window over which `windowRequests`, `windowErrors` and the percentiles are computed. */
export const WINDOW_S = 30;
/** Most recent latency samples kept per release (percentiles use those inside the window). */
const SAMPLES = 4096;
const CODE_CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];

/** Counters of one release as plain data; `samples` are the latencies (ms) inside the window. */
export interface CounterSnapshot {
  route: string;
  release: string;
  inFlight: number;
  longLived: number;
  requests: number;
  errors: number;
  byClass: number[];
  buckets: number[];
  latencySum: number;
  windowRequests: number;
  windowErrors: number;
  samples: number[];
}

/** Sum the snapshots of the same route and release (one per worker process). */
export function mergeSnapshots(parts: CounterSnapshot[]): CounterSnapshot[] {
  const byKey = new Map<string, CounterSnapshot>();
  for (const p of parts) {
    const key = `${p.route}\u0000${p.release}`;
    const into = byKey.get(key);
    if (!into) {
      byKey.set(key, { ...p, byClass: [...p.byClass], buckets: [...p.buckets], samples: [...p.samples] });
      continue;
    }
    into.inFlight += p.inFlight;
    into.longLived += p.longLived;
    into.requests += p.requests;
    into.errors += p.errors;
    into.latencySum += p.latencySum;
    into.windowRequests += p.windowRequests;
    into.windowErrors += p.windowErrors;
    for (let i = 0; i < into.byClass.length; i++) into.byClass[i] += p.byClass[i] ?? 0;
    for (let i = 0; i < into.buckets.length; i++) into.buckets[i] += p.buckets[i] ?? 0;
    for (const x of p.samples) into.samples.push(x);
  }
  return [...byKey.values()];
}

/** p50 and p99 of a snapshot's window samples, in ms rounded to the microsecond; null without samples. */
export function percentiles(c: CounterSnapshot): { p50Ms: number | null; p99Ms: number | null } {
  if (c.samples.length === 0) return { p50Ms: null, p99Ms: null };
  const sorted = [...c.samples].sort((a, b) => a - b);
  const pick = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  return { p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

/** Requests by code class label, for metrics. */
export function codeClasses(c: CounterSnapshot): [CodeClass, number][] {
  const out: [CodeClass, number][] = [];
  for (let i = 0; i < CODE_CLASSES.length; i++) if ((c.byClass[i] ?? 0) > 0) out.push([CODE_CLASSES[i], c.byClass[i]]);
  return out;
}

/**
 * Counters of one release on one route. The hot path only increments numbers
 * and writes into preallocated arrays; percentiles are computed when asked.
 */
export class ReleaseCounters {
  inFlight = 0;
  longLived = 0;
  requests = 0;
  errors = 0;
  /** Index 0: socket errors without a status; 1..5: status classes. */
  readonly byClass = new Float64Array(6);
  readonly buckets = new Float64Array(LATENCY_BUCKETS_S.length);
  latencySum = 0;
  private readonly samples = new Float64Array(SAMPLES);
  private readonly sampleAt = new Float64Array(SAMPLES);
  private sampleNext = 0;
  private readonly secReq = new Float64Array(WINDOW_S);
  private readonly secErr = new Float64Array(WINDOW_S);
  private sec = 0;

  constructor(readonly route: string, readonly release: string) {}

  /** Account one finished request: status 0 means it ended on a socket error. */
  record(startMs: number, status: number): void {
    const now = performance.now();
    const ms = now - startMs;
    const cls = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    const failed = cls === 0 || cls === 5;
    this.requests++;
    this.byClass[cls]++;
    if (failed) this.errors++;
    const s = ms / 1000;
    this.latencySum += s;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
      if (s <= LATENCY_BUCKETS_S[i]) {
        this.buckets[i]++;
        break;
      }
    }
    const at = this.sampleNext;
    this.samples[at] = ms;
    this.sampleAt[at] = now;
    this.sampleNext = at + 1 === SAMPLES ? 0 : at + 1;
    const slot = this.advance(now);
    this.secReq[slot]++;
    if (failed) this.secErr[slot]++;
  }

  /** Plain numbers of this release, for the control API and for merging across worker processes. */
  snapshot(): CounterSnapshot {
    const now = performance.now();
    this.advance(now);
    let windowRequests = 0;
    let windowErrors = 0;
    for (let i = 0; i < WINDOW_S; i++) {
      windowRequests += this.secReq[i];
      windowErrors += this.secErr[i];
    }
    const samples: number[] = [];
    const since = now - WINDOW_S * 1000;
    for (let i = 0; i < SAMPLES; i++) if (this.sampleAt[i] > since && this.sampleAt[i] !== 0) samples.push(this.samples[i]);
    return {
      route: this.route,
      release: this.release,
      inFlight: this.inFlight,
      longLived: this.longLived,
      requests: this.requests,
      errors: this.errors,
      byClass: [...this.byClass],
      buckets: [...this.buckets],
      latencySum: this.latencySum,
      windowRequests,
      windowErrors,
      samples,
    };
  }

  private advance(now: number): number {
    const sec = Math.floor(now / 1000);
    if (sec !== this.sec) {
      const gap = Math.min(sec - this.sec, WINDOW_S);
      for (let i = 1; i <= gap; i++) {
        const slot = (this.sec + i) % WINDOW_S;
        this.secReq[slot] = 0;
        this.secErr[slot] = 0;
      }
      this.sec = sec;
    }
    return sec % WINDOW_S;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** All counters by route and release. Counters outlive config changes so totals stay monotonic. */
export class TrafficStats {
  private readonly byRoute = new Map<string, Map<string, ReleaseCounters>>();

  counters(route: string, release: string): ReleaseCounters {
    let releases = this.byRoute.get(route);
    if (!releases) {
      releases = new Map();
      this.byRoute.set(route, releases);
    }
    let c = releases.get(release);
    if (!c) {
      c = new ReleaseCounters(route, release);
      releases.set(release, c);
    }
    return c;
  }

  find(route: string, release: string): ReleaseCounters | undefined {
    return this.byRoute.get(route)?.get(release);
  }

  snapshot(): CounterSnapshot[] {
    return this.all().map((c) => c.snapshot());
  }

  all(): ReleaseCounters[] {
    const out: ReleaseCounters[] = [];
    for (const releases of this.byRoute.values()) out.push(...releases.values());
    return out;
  }
}
