import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindCtx } from '../apply/instances.js';
import { healthAll, live, releaseConfig, startAll, stopAll, type StepRun } from '../apply/step-run.js';
import { describeError } from '../errors.js';
import { postgresLayout } from '../kinds/postgres/index.js';
import { serverUser } from '../kinds/postgres/server-user.js';
import type { RestoreStep } from '../plan/types.js';
import { BackupError } from './errors.js';
import { backedUpService } from './service.js';

function restoreOf(r: StepRun): RestoreStep {
  if (!r.step.restore) throw new BackupError(r.step.service, `step ${r.step.name} has no restore target`, 'make the plan again: symphony restore');
  return r.step.restore;
}

function ownByServer(path: string): void {
  const user = serverUser();
  if (user) chownSync(path, user.uid, user.gid);
}

/** Where a restore writes: postgres restores its data directory inside the volume; etcd and plain volumes the whole volume. */
function paths(r: StepRun): { postgres: boolean; volumePath: string; dataDir: string; socketDir: string | null } {
  const cfg = releaseConfig(r, r.step.release!);
  if (cfg.kind !== 'postgres') return { postgres: false, volumePath: cfg.volumePath!, dataDir: cfg.volumePath!, socketDir: null };
  const layout = postgresLayout(kindCtx(r.plan.env, cfg));
  return { postgres: true, volumePath: cfg.volumePath!, dataDir: layout.dataDir, socketDir: layout.socketDir };
}

/**
 * The three steps of a restore; `start` and `health` of the current release
 * follow them. Each is idempotent and has an undo, so a failed restore puts
 * the kept-aside volume back and starts the server on it again.
 */
export async function doRestoreStep(r: StepRun): Promise<unknown> {
  const { env } = r.plan;
  const rs = restoreOf(r);
  const { postgres, volumePath, dataDir, socketDir } = paths(r);
  switch (r.step.verb) {
    case 'restore-stop': {
      const svc = backedUpService(r.deps, env, r.step.service);
      let flushed = postgres ? 'server not running: WAL archived so far is what can be restored' : `nothing to flush: a${svc.kind === 'etcd' ? 'n etcd snapshot' : ' volume archive'} is whole`;
      if (postgres && svc.running) {
        // A WAL switch, waited for until archived: a restore can reach the last second before the stop.
        flushed = await svc.engine.flush().then(
          () => 'WAL switched and archived',
          (err: unknown) => `WAL flush failed (${describeError(err).error}); the restore reaches what was archived`,
        );
      }
      const cfg = releaseConfig(r, r.step.release!);
      await stopAll(r, live(r, r.step.release), cfg.deploy.graceMs);
      return { flushed };
    }
    case 'restore-aside': {
      if (existsSync(volumePath) && !existsSync(rs.asidePath)) renameSync(volumePath, rs.asidePath);
      if (existsSync(rs.asidePath)) r.deps.store.putVolume(env, rs.aside, rs.asidePath);
      mkdirSync(volumePath, { recursive: true, mode: 0o700 });
      r.deps.store.addEvent(env, 'volume-kept-aside', `volume of ${r.step.service} kept aside as ${rs.aside} (${rs.asidePath}) before a restore`, { service: r.step.service });
      if (!postgres || !socketDir) return { aside: rs.aside, path: rs.asidePath };
      // Files beside the data directory (the bootstrap marker) come along; data and socket dir do not.
      if (existsSync(rs.asidePath)) {
        for (const name of readdirSync(rs.asidePath)) {
          if (name === 'data' || name === 'run' || existsSync(join(volumePath, name))) continue;
          cpSync(join(rs.asidePath, name), join(volumePath, name), { recursive: true, preserveTimestamps: true });
        }
      }
      if (!existsSync(join(volumePath, '.symphony-bootstrap'))) writeFileSync(join(volumePath, '.symphony-bootstrap'), `restored ${new Date().toISOString()}\n`);
      mkdirSync(socketDir, { recursive: true, mode: 0o700 });
      for (const d of [volumePath, socketDir]) ownByServer(d);
      return { aside: rs.aside, path: rs.asidePath };
    }
    case 'restore-fetch': {
      if (!existsSync(rs.asidePath) && existsSync(dataDir) && readdirSync(dataDir).length > 0) {
        throw new BackupError(r.step.service, `${dataDir} holds data that is not kept aside`, 'this is a bug: the restore-aside step must run first; nothing was changed');
      }
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (postgres) ownByServer(dataDir);
      const svc = backedUpService(r.deps, env, r.step.service);
      const started = Date.now();
      await svc.engine.restoreInto(dataDir, rs.target);
      return { target: rs.target, ms: Date.now() - started };
    }
    default:
      return null;
  }
}

/** Compensation: remove what the restore wrote into the fresh volume, move the kept one back, start it. */
export async function undoRestoreStep(r: StepRun): Promise<void> {
  const rs = restoreOf(r);
  const { volumePath, dataDir } = paths(r);
  switch (r.step.verb) {
    case 'restore-fetch':
      if (existsSync(rs.asidePath)) rmSync(dataDir, { recursive: true, force: true });
      return;
    case 'restore-aside':
      if (existsSync(rs.asidePath)) {
        rmSync(volumePath, { recursive: true, force: true });
        renameSync(rs.asidePath, volumePath);
        r.deps.store.deleteVolume(r.plan.env, rs.aside);
      }
      return;
    case 'restore-stop':
      await startAll(r, r.step.release!);
      await healthAll(r, r.step.release!);
      return;
    default:
      return;
  }
}
