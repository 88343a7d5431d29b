import { resolve } from 'node:path';
import pg from 'pg';
import { postgresKind, postgresLayout } from '../../kinds/postgres/index.js';
import { kindCtx } from '../../apply/instances.js';
import type { ReleaseConfig } from '../../plan/types.js';
import { syncRolesOf } from '../../pooler/sync.js';
import { SecretVault } from '../../secrets/vault.js';
import type { LoadedStack, PostgresServiceSpec, ServiceNode } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import { MigrationEngine } from '../engine.js';
import { MigrationConnectError, MigrationTargetError } from './errors.js';

/** The database a `symphony migrate` command works on. Never holds the password in anything printable. */
export interface MigrationTarget {
  env: string;
  service: string;
  /** Absolute directory of the service's migration files, or null when `migrations:` is not set. */
  migrationsDir: string | null;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Release whose config the connection was derived from. */
  release: string;
}

/** The postgres service a command is about: the named one, or the only one in the stack. Pure. */
export function pickPostgresService(stack: LoadedStack, name?: string): ServiceNode {
  const postgres = stack.services.filter((s) => s.kind === 'postgres');
  if (name) {
    const svc = stack.services.find((s) => s.name === name);
    if (!svc) {
      throw new MigrationTargetError(`${stack.file}: no service named ${name}`, `pick one of the postgres services: ${postgres.map((s) => `--service ${s.name}`).join(', ') || '(none)'}`);
    }
    if (svc.kind !== 'postgres') {
      throw new MigrationTargetError(`${stack.file}: service ${name} is a ${svc.kind} service, not postgres`, `pick one of: ${postgres.map((s) => `--service ${s.name}`).join(', ') || '(none)'}`);
    }
    return svc;
  }
  if (postgres.length === 1) return postgres[0];
  if (postgres.length === 0) {
    throw new MigrationTargetError(`${stack.file}: the stack has no postgres service`, 'add one (services.<name>.postgres) and run: symphony apply');
  }
  throw new MigrationTargetError(
    `${stack.file}: the stack has ${postgres.length} postgres services (${postgres.map((s) => s.name).join(', ')})`,
    `say which one: symphony migrate <command> --service ${postgres[0].name}`,
  );
}

/** Directory named by the service's `migrations:`, resolved against the stack file's directory. */
export function migrationsDirOf(stack: LoadedStack, svc: ServiceNode): string | null {
  const dir = (svc.spec as PostgresServiceSpec).migrations;
  return dir ? resolve(stack.dir, dir) : null;
}


/**
 * Resolve the service's live connection from the recorded state: port, user and
 * database from its current release (as the postgres kind lays them out), the
 * password from the secret vault. Returns the printable target and a pool config.
 */
export function resolveTarget(stateDir: string, stack: LoadedStack, serviceName?: string): { target: MigrationTarget; pool: pg.PoolConfig } {
  const svc = pickPostgresService(stack, serviceName);
  const store = new StateStore(stateDir);
  try {
    const record = store.service(stack.env, svc.name);
    const releaseId = record?.currentRelease;
    if (!record || !releaseId) {
      throw new MigrationTargetError(
        `postgres service ${svc.name} is not running in environment ${stack.env} (nothing recorded in ${stateDir})`,
        `start it first: symphony apply${stack.env === 'default' ? '' : ` -e ${stack.env}`}`,
      );
    }
    const release = store.release(releaseId);
    if (!release) throw new MigrationTargetError(`release ${releaseId} of ${svc.name} is missing from the state store`, 'run: symphony apply');
    const ctx = kindCtx(stack.env, release.config as ReleaseConfig);
    const layout = postgresLayout(ctx);
    const password = new SecretVault(store).substitute(stack.env, postgresKind.attributes(ctx).password);
    const target: MigrationTarget = {
      env: stack.env, service: svc.name, migrationsDir: migrationsDirOf(stack, svc),
      host: '127.0.0.1', port: layout.port, user: layout.user, database: layout.database, release: releaseId,
    };
    const pool: pg.PoolConfig = { host: target.host, port: target.port, user: target.user, database: target.database, password, max: 2, connectionTimeoutMillis: 5000 };
    return { target, pool };
  } finally {
    store.close();
  }
}

/** `db (postgres://user@127.0.0.1:5432/name)`: where a command ran, without the password. */
export function describeTarget(t: MigrationTarget): string {
  return `${t.service} (postgres://${t.user}@${t.host}:${t.port}/${t.database})`;
}

/** Record what a migrate command did in the environment's event log. */
export function recordEvent(stateDir: string, target: MigrationTarget, message: string): void {
  const store = new StateStore(stateDir);
  try {
    store.addEvent(target.env, 'migrate', message, { service: target.service });
  } finally {
    store.close();
  }
}

/**
 * Run `fn` with an engine connected to the target; the pool is closed after.
 * A refused connection becomes a MigrationConnectError naming the target.
 */
export async function withEngine<T>(target: MigrationTarget, config: pg.PoolConfig, fn: (engine: MigrationEngine) => Promise<T>, opts: { roles?: boolean } = {}): Promise<T> {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  try {
    try {
      (await pool.connect()).release();
    } catch (err) {
      throw new MigrationConnectError(describeTarget(target), (err as Error).message);
    }
    const engine = new MigrationEngine(pool);
    const out = await fn(engine);
    // The schema-version login roles the pooler's clients use follow what the database recorded.
    if (opts.roles) await syncRolesOf(target, String(config.password ?? ''), await engine.status());
    return out;
  } finally {
    await pool.end();
  }
}
