import { resolve } from 'node:path';
import { postgresKind, postgresLayout } from '../kinds/postgres/index.js';
import { MigrationError } from '../errors.js';
import type { ReleaseConfig } from '../plan/types.js';
import { kindCtx } from './instances.js';
import { releaseConfig, type StepRun } from './step-run.js';
import { syncRolesOf } from '../pooler/sync.js';

type Engine = import('../migrate/engine.js').MigrationEngine;

/** An engine connected to the step's postgres service (password from the vault, never logged). */
async function engineFor(r: StepRun): Promise<{ engine: Engine; cfg: ReleaseConfig; end: () => Promise<void> }> {
  const cfg = releaseConfig(r, r.step.release!);
  const ctx = kindCtx(r.plan.env, cfg);
  const layout = postgresLayout(ctx);
  const password = r.deps.vault.substitute(r.plan.env, postgresKind.attributes(ctx).password);
  const { MigrationEngine } = await import('../migrate/engine.js');
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ host: '127.0.0.1', port: layout.port, user: layout.user, database: layout.database, password, max: 2 });
  pool.on('error', () => undefined);
  return { engine: new MigrationEngine(pool, {}), cfg, end: () => pool.end() };
}

/**
 * Run `fn` with an engine on the step's service, then make the schema-version login roles
 * match what the database recorded (src/pooler/roles.ts): the in-flight version's role
 * exists once `start` ran, the previous one's is gone after `complete`, the rolled-back
 * one's after `rollback`.
 */
async function withEngine<T>(r: StepRun, fn: (e: Engine, cfg: ReleaseConfig) => Promise<T>): Promise<T> {
  const { engine, cfg, end } = await engineFor(r);
  try {
    const out = await fn(engine, cfg);
    const ctx = kindCtx(r.plan.env, cfg);
    const password = r.deps.vault.substitute(r.plan.env, postgresKind.attributes(ctx).password);
    const roles = await syncRolesOf(postgresLayout(ctx), password, await engine.status());
    if (roles.created.length + roles.dropped.length > 0) {
      r.deps.store.addEvent(r.plan.env, 'schema-roles', `${cfg.service}: login roles created ${roles.created.join(', ') || 'none'}, dropped ${roles.dropped.join(', ') || 'none'}`, { service: cfg.service });
    }
    return out;
  } finally {
    await engine.close();
    await end();
  }
}

/**
 * Expand: start the release's migration so that old and new app versions are
 * served side by side. Idempotent: an in-flight start of the same version resumes.
 */
export async function migrateStart(r: StepRun): Promise<unknown> {
  const version = r.step.version!;
  return withEngine(r, async (engine, cfg) => {
    const st = await engine.status();
    if (st.versions.some((v) => v.name === version && v.status === 'complete')) return { version, already: 'complete' };
    if (st.inFlight && st.inFlight.name !== version) {
      throw new MigrationError(`migration ${st.inFlight.name} is in flight on ${cfg.service}; ${version} cannot start`, `finish it first: symphony migrate complete --service ${cfg.service} (or rollback)`);
    }
    const dir = resolve(cfg.stackDir, String((cfg.spec as { migrations?: string }).migrations));
    const { loadMigrations } = await import('../migrate/load.js');
    const m = loadMigrations(dir).find((x) => x.name === version);
    if (!m) throw new MigrationError(`migration ${version} is no longer in ${dir}`, 'put the file back, or make a new plan');
    const res = await engine.start(m);
    r.deps.store.addEvent(r.plan.env, 'migration-started', `${cfg.service}: ${version} started (schema ${res.schema})`, { service: cfg.service });
    return { version, schema: res.schema, backfilled: res.backfilled };
  });
}

/** Contract: after the old release is gone, drop what only the old version needed. */
export async function migrateComplete(r: StepRun): Promise<unknown> {
  const version = r.step.version!;
  return withEngine(r, async (engine, cfg) => {
    const st = await engine.status();
    if (st.inFlight?.name === version) await engine.complete();
    else if (!st.versions.some((v) => v.name === version && v.status === 'complete')) {
      throw new MigrationError(`migration ${version} is neither in flight nor complete on ${cfg.service}`, 'see: symphony migrate status');
    }
    r.deps.store.setSchemaVersion(r.plan.env, cfg.service, version);
    r.deps.store.addEvent(r.plan.env, 'migration-completed', `${cfg.service}: ${version} completed`, { service: cfg.service });
    return { version };
  });
}

/** Undo of an expand: roll the migration back, keeping what the new version wrote (moved aside, reported). */
export async function migrateRollback(r: StepRun): Promise<void> {
  await withEngine(r, async (engine, cfg) => {
    const st = await engine.status();
    if (st.inFlight?.name !== r.step.version) return;
    const res = await engine.rollback();
    r.deps.store.addEvent(r.plan.env, 'migration-rolled-back', `${cfg.service}: ${r.step.version} rolled back; kept aside: ${JSON.stringify(res)}`, { service: cfg.service });
  });
}
