import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceRecord } from '../state/types.js';
import { handleOf, isRunning, kindCtx, waitInstanceHealthy } from './instances.js';
import { live, ordinals, releaseConfig, startAll, stopAll, upstreamsOfInstances, type StepRun } from './step-run.js';

/** Longest wait between taking a removed replica off the route and stopping it (its in-flight requests finish on SIGTERM too). */
const SETTLE_MS = 1000;

/** Point the service's routes at `keep`: the plan's routes when it carries them (apply), else the routes already sending to the release (scale). */
async function reroute(r: StepRun, release: string, keep: InstanceRecord[]): Promise<void> {
  const traffic = await r.deps.traffic();
  if (!traffic) return;
  const routes = r.plan.routes.filter((x) => x.service === r.step.service);
  if (routes.length === 0) return void (await traffic.setUpstreams(release, upstreamsOfInstances(keep)));
  for (const rt of routes) await traffic.setBackends(rt, [{ release, weight: 100, upstreams: upstreamsOfInstances(keep) }]);
}

/**
 * The `scale` step: the release's replicas become `step.replicas`. New ones
 * start and must be healthy before the route gets them; removed ones leave
 * the route first, get a moment to finish what they hold, then stop
 * gracefully. A replica found dead is started again on the way.
 */
export async function scaleRelease(r: StepRun): Promise<{ from: number; to: number }> {
  const { store } = r.deps;
  const release = r.step.release!;
  const cfg = releaseConfig(r, release);
  const want = ordinals(cfg, r.step.replicas);
  const keepOrdinals = new Set(want.map((w) => w.ordinal));
  for (const i of live(r, release)) if (!isRunning(r.deps, i) && handleOf(i)) store.updateInstance(i.id, { status: 'crashed' });
  const from = live(r, release).filter((i) => i.status !== 'crashed').length;
  await startAll({ ...r, plan: { ...r.plan, replicas: { ...r.plan.replicas, [r.step.service]: want.length } } }, release);
  const keep = live(r, release).filter((i) => keepOrdinals.has(i.ordinal));
  const ctx = kindCtx(r.plan.env, cfg);
  await Promise.all(keep.map((i) => waitInstanceHealthy(r.deps, ctx, cfg, i)));
  await reroute(r, release, live(r, release).filter((i) => keepOrdinals.has(i.ordinal)));
  const removed = live(r, release).filter((i) => !keepOrdinals.has(i.ordinal));
  if (removed.length > 0) {
    await sleep(Math.min(cfg.deploy.drainMs, SETTLE_MS));
    await stopAll(r, removed, cfg.deploy.graceMs);
  }
  return { from, to: want.length };
}
