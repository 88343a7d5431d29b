import { setTimeout as sleep } from 'node:timers/promises';
import { SymphonyError } from '../errors.js';
import type { DeployConfig } from '../plan/types.js';
import type { TrafficControl, Upstream } from './context.js';
import { startInstance } from './instances.js';
import { healthAll, live, releaseConfig, stopAll, upstreamsOf, type StepRun } from './step-run.js';

export class CanaryAnalysisError extends SymphonyError {
  override readonly code: string = 'canary_failed';
}

export interface CanaryVerdict {
  ok: boolean;
  reason: string;
}

/**
 * Judge a canary from the router's window over both releases; too few canary
 * requests is no evidence, so no pass. A p99 fails only when it is both over
 * `maxP99Ratio` times the stable one and more than `p99ToleranceMs` above it:
 * a 10 ms blip on a 9 ms service is a noisy neighbour, not a slow release. Pure.
 */
export function judgeCanary(
  a: NonNullable<DeployConfig['analysis']>,
  canary: { requests: number; errors: number; p99Ms: number | null },
  stable: { requests: number; errors: number; p99Ms: number | null },
): CanaryVerdict {
  if (canary.requests < a.minRequests) return { ok: false, reason: `only ${canary.requests} canary requests (< ${a.minRequests}): not enough to judge` };
  const rate = canary.errors / canary.requests;
  if (rate > a.maxErrorRate) return { ok: false, reason: `canary error rate ${(rate * 100).toFixed(1)}% (${canary.errors}/${canary.requests}) > ${(a.maxErrorRate * 100).toFixed(1)}%` };
  if (canary.p99Ms !== null && stable.p99Ms !== null && stable.requests >= a.minRequests) {
    const limit = Math.max(stable.p99Ms * a.maxP99Ratio, stable.p99Ms + a.p99ToleranceMs);
    if (canary.p99Ms > limit) return { ok: false, reason: `canary p99 ${canary.p99Ms.toFixed(1)} ms > ${a.maxP99Ratio}x stable p99 ${stable.p99Ms.toFixed(1)} ms` };
  }
  return { ok: true, reason: `error rate ${((canary.errors / canary.requests) * 100).toFixed(1)}%, p99 ${canary.p99Ms?.toFixed(1) ?? '-'} ms vs ${stable.p99Ms?.toFixed(1) ?? '-'} ms` };
}

async function split(r: StepRun, traffic: TrafficControl, previous: string, release: string, pct: number, sticky: DeployConfig['sticky']): Promise<void> {
  const backends = [
    { release: previous, weight: 100 - pct, upstreams: upstreamsOf(r, previous) },
    { release, weight: pct, upstreams: upstreamsOf(r, release) },
  ];
  for (const rt of r.plan.routes.filter((x) => x.service === r.step.service)) await traffic.setBackends(rt, backends, sticky);
}

/** Longest a canary step is measured in all: the router's stats window. */
const MEASURE_LIMIT_MS = 30_000;

/**
 * The canary's stats once it has served `minRequests` in the window: a quiet
 * step is measured longer (up to 5 intervals, within the router's window)
 * rather than judged on no evidence.
 */
async function enoughCanaryRequests(traffic: TrafficControl, a: NonNullable<DeployConfig['analysis']>, release: string): ReturnType<TrafficControl['releaseStats']> {
  const extraMs = Math.max(0, Math.min(4 * a.intervalMs, MEASURE_LIMIT_MS - a.intervalMs));
  const deadline = Date.now() + extraMs;
  for (;;) {
    const stats = await traffic.releaseStats(release);
    if (stats.requests >= a.minRequests || Date.now() >= deadline) return stats;
    await sleep(Math.min(250, a.intervalMs));
  }
}

/**
 * Canary: move traffic to the new release step by step (e.g. 10%, 50%),
 * sticky per client, pausing or gating each step on the router's own
 * measurements. A failed gate throws, and the runner switches back.
 */
export async function canaryShift(r: StepRun): Promise<unknown> {
  const release = r.step.release!;
  const previous = r.step.previous!;
  const cfg = releaseConfig(r, release);
  const traffic = await r.deps.traffic();
  if (!traffic || !r.plan.routes.some((x) => x.service === r.step.service)) return { skipped: 'no route' };
  const verdicts: string[] = [];
  for (const pct of cfg.deploy.steps.filter((p) => p < 100)) {
    await split(r, traffic, previous, release, pct, cfg.deploy.sticky);
    r.deps.progress(r.step.name, `canary at ${pct}%`);
    const a = cfg.deploy.analysis;
    await sleep(a ? Math.max(a.intervalMs, cfg.deploy.pauseMs) : cfg.deploy.pauseMs);
    if (!a) continue;
    const canary = await enoughCanaryRequests(traffic, a, release);
    const verdict = judgeCanary(a, canary, await traffic.releaseStats(previous));
    verdicts.push(`${pct}%: ${verdict.reason}`);
    if (verdict.ok) continue;
    const hint =
      canary.requests < a.minRequests
        ? `send traffic to the route during the canary, lower deploy.analysis.min_requests, or drop deploy.analysis to promote on pauses alone`
        : `look at the new release's logs: symphony logs ${r.step.service}`;
    throw new CanaryAnalysisError(`canary gate failed at ${pct}%: ${verdict.reason}; traffic goes back to ${previous}`, hint);
  }
  return { verdicts };
}

/**
 * Rolling: start `maxSurge` new replicas at a time, add them to the route
 * beside the old ones (weights by count), then take as many old replicas
 * out of the route and stop them gracefully. Re-running resumes.
 */
export async function rollingReplace(r: StepRun): Promise<unknown> {
  const release = r.step.release!;
  const previous = r.step.previous!;
  const cfg = releaseConfig(r, release);
  const want = r.plan.replicas[r.step.service] ?? 1;
  const batch = Math.max(1, cfg.deploy.maxSurge + cfg.deploy.maxUnavailable);
  const traffic = await r.deps.traffic();
  const routes = r.plan.routes.filter((x) => x.service === r.step.service);
  // Replicas being stopped leave the route before their process gets SIGTERM.
  const serving = (id: string): Upstream[] => {
    const stopping = new Set(live(r, id).filter((i) => i.status === 'stopping').map((i) => i.id));
    return upstreamsOf(r, id).filter((u) => !stopping.has(u.id));
  };
  const publish = async (): Promise<void> => {
    const fresh = serving(release);
    const old = serving(previous);
    const total = fresh.length + old.length;
    if (!traffic || total === 0) return;
    const w = Math.round((fresh.length / total) * 100);
    const backends = [
      { release: previous, weight: 100 - w, upstreams: old },
      { release, weight: w, upstreams: fresh },
    ].filter((b) => b.upstreams.length > 0 || b.weight === 0);
    for (const rt of routes) await traffic.setBackends(rt, backends);
  };
  for (let n = live(r, release).length; n < want; n = live(r, release).length) {
    for (let i = n; i < Math.min(want, n + batch); i++) await startInstance(r.deps, r.plan.env, release, cfg.instances[0], String(i));
    await healthAll(r, release);
    const victims = live(r, previous)
      .sort((a, b) => Number(b.ordinal) - Number(a.ordinal))
      .slice(0, batch);
    for (const v of victims) r.deps.store.updateInstance(v.id, { status: 'stopping' });
    await publish();
    await sleep(Math.min(cfg.deploy.drainMs, 2000));
    await stopAll(r, victims, cfg.deploy.graceMs);
    r.deps.progress(r.step.name, `rolling: ${live(r, release).length}/${want} replicas on ${release}`);
  }
  return { replicas: want };
}
