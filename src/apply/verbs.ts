import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { getKind } from '../kinds/registry.js';
import type { Plan, PlanStep, ReleaseConfig } from '../plan/types.js';
import type { InstanceRecord } from '../state/types.js';
import type { ExecDeps } from './context.js';
import { handleOf, isRunning, kindCtx, startInstance, stopInstance, substitute, waitInstanceHealthy } from './instances.js';
import { rollMembers } from './roll.js';

export interface StepRun {
  deps: ExecDeps;
  plan: Plan;
  step: PlanStep;
}

/** Steps after which an operation can no longer be undone, only finished. */
export const IRREVERSIBLE = new Set<PlanStep['verb']>(['stop-old', 'replace-in-place', 'roll', 'stop', 'forget', 'delete-volumes']);

export function releaseConfig(r: StepRun, id: string): ReleaseConfig {
  const cfg = r.plan.releases[id] ?? (r.deps.store.release(id)?.config as ReleaseConfig | undefined);
  if (!cfg) throw new Error(`release ${id} is neither in the plan nor in the state store`);
  return cfg;
}

const live = (r: StepRun, release: string | null): InstanceRecord[] =>
  release ? r.deps.store.instances(r.plan.env, { release, live: true }) : [];

function ordinals(cfg: ReleaseConfig, replicas: number | undefined): Array<{ ordinal: string; draft: ReleaseConfig['instances'][number] }> {
  if (cfg.kind !== 'app') return cfg.instances.map((d) => ({ ordinal: d.ordinal, draft: d }));
  return Array.from({ length: replicas ?? 1 }, (_, i) => ({ ordinal: String(i), draft: cfg.instances[0] }));
}

async function startAll(r: StepRun, release: string): Promise<void> {
  const cfg = releaseConfig(r, release);
  for (const { ordinal, draft } of ordinals(cfg, r.plan.replicas[r.step.service])) {
    await startInstance(r.deps, r.plan.env, release, draft, ordinal);
  }
}

async function stopAll(r: StepRun, instances: InstanceRecord[], graceMs: number): Promise<void> {
  await Promise.all(instances.map((i) => stopInstance(r.deps, i, graceMs)));
}

async function healthAll(r: StepRun, release: string): Promise<void> {
  const cfg = releaseConfig(r, release);
  const ctx = kindCtx(r.plan.env, cfg);
  await Promise.all(live(r, release).map((i) => waitInstanceHealthy(r.deps, ctx, cfg, i)));
}

async function route(r: StepRun, release: string): Promise<void> {
  const routes = r.plan.routes.filter((x) => x.service === r.step.service);
  if (routes.length === 0) return;
  const traffic = await r.deps.traffic();
  if (!traffic) return;
  const upstreams = live(r, release)
    .filter((i) => i.port !== null)
    .map((i) => ({ id: i.id, host: '127.0.0.1', port: i.port as number }));
  for (const rt of routes) await traffic.setBackends(rt, [{ release, weight: 100, upstreams }]);
}

/** Do one step. Every verb is idempotent: re-running it after a crash is safe. */
export async function doStep(r: StepRun): Promise<unknown> {
  const { store, vault } = r.deps;
  const { env } = r.plan;
  const { step } = r;
  const release = step.release;
  switch (step.verb) {
    case 'volume': {
      const cfg = releaseConfig(r, release!);
      mkdirSync(dirname(cfg.volumePath!), { recursive: true, mode: 0o711 });
      mkdirSync(cfg.volumePath!, { recursive: true, mode: 0o700 });
      store.putVolume(env, cfg.volume!, cfg.volumePath!);
      return { path: cfg.volumePath };
    }
    case 'release': {
      const cfg = releaseConfig(r, release!);
      for (const s of cfg.generatedSecrets) vault.ensureGenerated(env, s);
      store.putRelease({ id: release!, env, service: step.service, configHash: release!, config: cfg, status: 'pending' });
      return { release };
    }
    case 'prepare': {
      const cfg = releaseConfig(r, release!);
      const kind = getKind(cfg.kind);
      const ctx = kindCtx(env, cfg);
      const draft = cfg.instances[0];
      await kind.prepare?.(ctx, draft ? substitute(r.deps, env, draft).env : {}, r.deps.driver);
      return null;
    }
    case 'start':
      await startAll(r, release!);
      return { instances: live(r, release).map((i) => i.id) };
    case 'health':
      await healthAll(r, release!);
      return null;
    case 'switch': {
      await route(r, release!);
      const rec = store.service(env, step.service);
      store.transaction(() => {
        store.upsertService({ env, name: step.service, kind: releaseConfig(r, release!).kind, currentRelease: release, previousRelease: step.previous ?? rec?.previousRelease ?? null, ports: releaseConfig(r, release!).ports });
        store.setReleaseStatus(release!, 'live');
        if (step.previous) store.setReleaseStatus(step.previous, 'retired');
      });
      return { live: release };
    }
    case 'drain': {
      const traffic = await r.deps.traffic();
      const cfg = releaseConfig(r, release!);
      const deadline = Date.now() + cfg.deploy.drainMs;
      if (traffic && step.previous) {
        while (Date.now() < deadline && (await traffic.inFlight(step.previous)) > 0) await new Promise((res) => setTimeout(res, 100));
        await traffic.closeLongLived(step.previous);
      }
      return null;
    }
    case 'stop-old':
      await stopAll(r, live(r, step.previous), releaseConfig(r, release!).deploy.graceMs);
      return null;
    case 'replace-in-place': {
      const cfg = releaseConfig(r, release!);
      const fresh = live(r, release).filter((i) => isRunning(r.deps, i));
      if (fresh.length < cfg.instances.length) {
        await stopAll(r, live(r, step.previous), cfg.deploy.graceMs);
        await startAll(r, release!);
      }
      return null;
    }
    case 'roll':
      await rollMembers(r, releaseConfig(r, release!), step.previous!);
      return null;
    case 'scale': {
      const cfg = releaseConfig(r, release!);
      const want = ordinals(cfg, step.replicas);
      const keep = new Set(want.map((w) => w.ordinal));
      for (const i of live(r, release)) if (!isRunning(r.deps, i) && handleOf(i)) store.updateInstance(i.id, { status: 'crashed' });
      await startAll({ ...r, plan: { ...r.plan, replicas: { ...r.plan.replicas, [step.service]: step.replicas ?? 1 } } }, release!);
      await stopAll(r, live(r, release).filter((i) => !keep.has(i.ordinal)), cfg.deploy.graceMs);
      await route(r, release!);
      return null;
    }
    case 'stop': {
      await stopAll(r, store.instances(env, { service: step.service, live: true }), 10_000);
      return null;
    }
    case 'forget': {
      const traffic = await r.deps.traffic();
      await traffic?.removeRoutesOf(env, step.service);
      store.deleteService(env, step.service);
      return null;
    }
    case 'delete-volumes': {
      for (const v of store.volumes(env)) {
        rmSync(v.path, { recursive: true, force: true });
        store.deleteVolume(env, v.name);
      }
      return null;
    }
  }
}

/** Undo a done step (compensation), when the operation fails before its point of no return. */
export async function undoStep(r: StepRun): Promise<void> {
  const { store } = r.deps;
  const { step } = r;
  switch (step.verb) {
    case 'start':
    case 'health':
      await stopAll(r, live(r, step.release), 5_000);
      return;
    case 'release':
      store.setReleaseStatus(step.release!, 'failed');
      return;
    case 'switch': {
      if (step.previous) {
        await route(r, step.previous);
        const rec = store.service(r.plan.env, step.service);
        if (rec) store.upsertService({ ...rec, currentRelease: step.previous, previousRelease: rec.previousRelease });
        store.setReleaseStatus(step.previous, 'live');
      } else {
        const traffic = await r.deps.traffic();
        await traffic?.removeRoutesOf(r.plan.env, step.service);
        store.deleteService(r.plan.env, step.service);
      }
      store.setReleaseStatus(step.release!, 'failed');
      return;
    }
    default:
      return;
  }
}
