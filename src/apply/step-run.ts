import type { Plan, PlanStep, ReleaseConfig } from '../plan/types.js';
import type { InstanceRecord } from '../state/types.js';
import type { ExecDeps, Upstream } from './context.js';
import { kindCtx, startInstance, stopInstance, waitInstanceHealthy } from './instances.js';

export interface StepRun {
  deps: ExecDeps;
  plan: Plan;
  step: PlanStep;
}

/** Steps after which an operation can no longer be undone, only finished. */
export const IRREVERSIBLE = new Set<PlanStep['verb']>(['stop-old', 'replace-in-place', 'roll', 'stop', 'forget', 'delete-volumes', 'migrate-complete']);

export function releaseConfig(r: StepRun, id: string): ReleaseConfig {
  const cfg = r.plan.releases[id] ?? (r.deps.store.release(id)?.config as ReleaseConfig | undefined);
  if (!cfg) throw new Error(`release ${id} is neither in the plan nor in the state store`);
  return cfg;
}

export const live = (r: StepRun, release: string | null): InstanceRecord[] =>
  release ? r.deps.store.instances(r.plan.env, { release, live: true }) : [];

export function ordinals(cfg: ReleaseConfig, replicas: number | undefined): Array<{ ordinal: string; draft: ReleaseConfig['instances'][number] }> {
  if (cfg.kind !== 'app') return cfg.instances.map((d) => ({ ordinal: d.ordinal, draft: d }));
  return Array.from({ length: replicas ?? 1 }, (_, i) => ({ ordinal: String(i), draft: cfg.instances[0] }));
}

export async function startAll(r: StepRun, release: string): Promise<void> {
  const cfg = releaseConfig(r, release);
  for (const { ordinal, draft } of ordinals(cfg, r.plan.replicas[r.step.service])) {
    await startInstance(r.deps, r.plan.env, release, draft, ordinal);
  }
}

export async function stopAll(r: StepRun, instances: InstanceRecord[], graceMs: number): Promise<void> {
  await Promise.all(instances.map((i) => stopInstance(r.deps, i, graceMs)));
}

export async function healthAll(r: StepRun, release: string): Promise<void> {
  const cfg = releaseConfig(r, release);
  const ctx = kindCtx(r.plan.env, cfg);
  await Promise.all(live(r, release).map((i) => waitInstanceHealthy(r.deps, ctx, cfg, i)));
}

/** The router upstreams of these instances (those with a port). */
export function upstreamsOfInstances(instances: InstanceRecord[]): Upstream[] {
  return instances.filter((i) => i.port !== null).map((i) => ({ id: i.id, host: '127.0.0.1', port: i.port as number }));
}

export function upstreamsOf(r: StepRun, release: string | null): Upstream[] {
  return upstreamsOfInstances(live(r, release));
}

/** Send all of the service's routes to one release. */
export async function route(r: StepRun, release: string): Promise<void> {
  const routes = r.plan.routes.filter((x) => x.service === r.step.service);
  if (routes.length === 0) return;
  const traffic = await r.deps.traffic();
  if (!traffic) return;
  for (const rt of routes) await traffic.setBackends(rt, [{ release, weight: 100, upstreams: upstreamsOf(r, release) }]);
}

