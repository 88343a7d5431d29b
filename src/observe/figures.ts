import type { Observation } from './model.js';

/** What `symphony metrics` prints for one service: the figures of the last seconds. */
export interface ServiceFigures {
  env: string;
  service: string;
  replicas: { desired: number; ready: number };
  /** Requests per second over the router's window; null for a service no route leads to. */
  rps: number | null;
  /** Share of those requests that failed (5xx or socket error), 0..1; null without requests. */
  errorRate: number | null;
  /** p50: of the release that served most; p99: the worst release's. Null without requests. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** CPU used between the two observations, in cores (1 = one core busy); null with a single observation. */
  cpu: number | null;
  /** Resident memory of the running instances, summed. */
  rssBytes: number;
}

/**
 * Per-service figures from two observations `before` and `now` (CPU is the
 * difference of the instances' CPU seconds over the time between them; the
 * router's numbers are its own recent window). Pure.
 */
export function serviceFigures(now: Observation, before: Observation | null, filter?: { env?: string; service?: string }): ServiceFigures[] {
  const wanted = now.services.filter((s) => (!filter?.env || s.env === filter.env) && (!filter?.service || s.service === filter.service));
  const dt = before ? (now.at - before.at) / 1000 : 0;
  const cpuBefore = new Map((before?.instances ?? []).flatMap((i) => (i.usage ? [[i.instance, i.usage.cpuSeconds]] : [])));
  return wanted.map((s) => {
    const mine = now.instances.filter((i) => i.env === s.env && i.service === s.service);
    const win = now.http.window.filter((w) => w.env === s.env && w.service === s.service);
    const routed = now.http.releases.some((r) => r.env === s.env && r.service === s.service) || win.length > 0;
    const requests = win.reduce((n, w) => n + w.requests, 0);
    const errors = win.reduce((n, w) => n + w.errors, 0);
    const busiest = [...win].sort((a, b) => b.requests - a.requests)[0];
    const p99s = win.map((w) => w.p99Ms).filter((p): p is number => p !== null);
    let cpu: number | null = null;
    if (dt > 0) {
      cpu = 0;
      for (const i of mine) {
        const was = cpuBefore.get(i.instance);
        if (i.usage && was !== undefined) cpu += Math.max(0, i.usage.cpuSeconds - was) / dt;
      }
      cpu = Math.round(cpu * 1000) / 1000;
    }
    return {
      env: s.env,
      service: s.service,
      replicas: { desired: s.desired, ready: s.ready },
      rps: routed ? Math.round((requests / now.http.windowS) * 100) / 100 : null,
      errorRate: requests > 0 ? Math.round((errors / requests) * 10_000) / 10_000 : null,
      p50Ms: requests > 0 ? (busiest?.p50Ms ?? null) : null,
      p99Ms: requests > 0 && p99s.length ? Math.max(...p99s) : null,
      cpu,
      rssBytes: mine.reduce((n, i) => n + (i.usage?.residentBytes ?? 0), 0),
    };
  });
}
