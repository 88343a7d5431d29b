import { mkdirSync } from 'node:fs';
import { makeVolumeParents, removeVolume } from '../volumes/reach.js';
import { getKind } from '../kinds/registry.js';
import type { Plan, PlanStep, ReleaseConfig } from '../plan/types.js';
import type { InstanceRecord } from '../state/types.js';
import type { ExecDeps } from './context.js';
import { scaleRelease } from './scale.js';
import { handleOf, isRunning, kindCtx, startInstance, stopInstance, substitute, waitInstanceHealthy } from './instances.js';
import { rollMembers } from './roll.js';
import { replaceInPlace } from './in-place.js';
import { canaryShift, rollingReplace } from './shift.js';
import { migrateComplete, migrateRollback, migrateStart } from './migrate.js';
import { doRestoreStep, undoRestoreStep } from '../backup/restore-steps.js';
import { IRREVERSIBLE, healthAll, live, ordinals, releaseConfig, route, startAll, stopAll, type StepRun } from './step-run.js';

export { IRREVERSIBLE, releaseConfig, type StepRun };

/** Do one step. Every verb is idempotent: re-running it after a crash is safe. */
export async function doStep(r: StepRun): Promise<unknown> {
  const { store, vault } = r.deps;
  const { env } = r.plan;
  const { step } = r;
  const release = step.release;
  switch (step.verb) {
    case 'volume': {
      const cfg = releaseConfig(r, release!);
      makeVolumeParents(r.deps.stateDir, cfg.volumePath!);
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
        const routes = r.plan.routes.filter((x) => x.service === step.service);
        store.setRoutes(env, step.service, routes.map((x) => ({ id: x.id, listen: x.listen, host: x.host ?? null, path: x.path ?? null })));
        store.setReleaseStatus(release!, 'live');
        if (step.previous) store.setReleaseStatus(step.previous, 'retired');
      });
      return { live: release };
    }
    case 'restore-stop':
    case 'restore-aside':
    case 'restore-fetch':
      return doRestoreStep(r);
    case 'migrate-start':
      return migrateStart(r);
    case 'migrate-complete':
      return migrateComplete(r);
    case 'canary':
      return canaryShift(r);
    case 'rolling':
      return rollingReplace(r);
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
    case 'stop-old': {
      // The replaced release stays warm (running, no traffic) for an instant rollback; older warm ones stop.
      const cfg = releaseConfig(r, release!);
      for (const old of store.releases(env, step.service)) {
        if (old.id !== step.previous && old.id !== release && old.status === 'warm') {
          await stopAll(r, live(r, old.id), cfg.deploy.graceMs);
          store.setReleaseStatus(old.id, 'retired');
        }
      }
      if (!step.previous) return null;
      // With a migration to complete, the old release cannot stay warm: its schema version goes away.
      const migrating = r.plan.steps.some((x) => x.verb === 'migrate-complete');
      if (cfg.deploy.warmMs > 0 && !migrating && live(r, step.previous).length > 0) {
        const until = new Date(Date.now() + cfg.deploy.warmMs);
        store.setWarm(step.previous, until);
        return { warm: step.previous, until: until.toISOString() };
      }
      await stopAll(r, live(r, step.previous), cfg.deploy.graceMs);
      store.setReleaseStatus(step.previous, 'retired');
      return null;
    }
    case 'replace-in-place':
      return replaceInPlace(r);
    case 'roll':
      await rollMembers(r, releaseConfig(r, release!), step.previous!);
      return null;
    case 'scale':
      return scaleRelease(r);
    case 'stop': {
      await stopAll(r, store.instances(env, { service: step.service, live: true }), 10_000);
      return null;
    }
    case 'forget': {
      const traffic = await r.deps.traffic();
      await traffic?.removeRoutesOf(env, step.service);
      const rec = store.service(env, step.service);
      const cfg = rec?.currentRelease ? (store.release(rec.currentRelease)?.config as ReleaseConfig | undefined) : undefined;
      // A kept volume may name the service's ports (etcd peer URLs): the next apply gives it the same ones.
      if (rec && cfg?.volume && Object.keys(rec.ports).length > 0) store.keepPorts(env, step.service, rec.ports);
      store.deleteService(env, step.service);
      return null;
    }
    case 'delete-volumes': {
      store.dropKeptPorts(env);
      for (const v of store.volumes(env)) {
        removeVolume(r.deps.stateDir, v.path);
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
    case 'scale':
      // Back to the count before; the release itself stays live.
      if (step.replicasBefore !== undefined) await scaleRelease({ ...r, step: { ...step, replicas: step.replicasBefore } });
      return;
    case 'health':
      // After a scale step the release was live before the operation: the scale's undo handles it.
      if (r.plan.steps.some((x) => x.verb === 'scale' && x.service === step.service && x.release === step.release)) return;
    // falls through
    case 'start':
    case 'rolling':
      if (step.verb === 'rolling' && step.previous) {
        await startAll(r, step.previous);
        await healthAll(r, step.previous);
        await route(r, step.previous);
      }
      await stopAll(r, live(r, step.release), 5_000);
      return;
    case 'canary':
      if (step.previous) await route(r, step.previous);
      return;
    case 'migrate-start':
      await migrateRollback(r);
      return;
    case 'restore-stop':
    case 'restore-aside':
    case 'restore-fetch':
      await undoRestoreStep(r);
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
