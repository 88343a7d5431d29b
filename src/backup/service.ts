import type { ExecDeps } from '../apply/context.js';
import { isRunning, kindCtx } from '../apply/instances.js';
import { NotFoundError } from '../errors.js';
import { writeArchiveConfig } from '../kinds/postgres/archive.js';
import { PASSWORD_ENV, postgresLayout, type PostgresLayout } from '../kinds/postgres/index.js';
import type { ReleaseConfig } from '../plan/types.js';
import { BackupError } from './errors.js';
import { backedUpKind, backupLayout, type BackedUpKind, type BackupLayout } from './layout.js';
import { PgBackRest } from './pgbackrest/driver.js';
import { etcdSnapshotFormat, volumeArchiveFormat } from './snapshots/formats.js';
import { SnapshotRepo } from './snapshots/repo.js';
import type { Backup } from './types.js';

/** A service with a `backup:` section at its current release, and its engine. */
export interface BackedUpService {
  env: string;
  service: string;
  release: string;
  config: ReleaseConfig;
  layout: BackupLayout;
  kind: BackedUpKind;
  /** The postgres server's layout; null for the other kinds. */
  server: PostgresLayout | null;
  engine: Backup & { walRange(): Promise<{ min: string; max: string } | null> };
  /** The superuser password of a postgres server (never logged; the engine and verify need it); '' otherwise. */
  password: string;
  /** The current release's server process runs. */
  running: boolean;
}

/** Resolve one service for a backup command; clear errors for a service that has none. */
export function backedUpService(deps: ExecDeps, env: string, service: string): BackedUpService {
  const rec = deps.store.service(env, service);
  if (!rec?.currentRelease) throw new NotFoundError(`no service ${service} in environment ${env}`, 'see what exists with: symphony status');
  const config = deps.store.release(rec.currentRelease)?.config as ReleaseConfig | undefined;
  if (!config) throw new NotFoundError(`release ${rec.currentRelease} of ${service} is not recorded`, 'run: symphony apply');
  const kind = backedUpKind(config);
  if (!kind) {
    throw new BackupError(service, `is a ${config.kind} service; Symphony backs up postgres and etcd services and plain volumes of apps`, 'a cluster service takes its consistent copy with cluster.snapshot during a roll (docs/backups.md)');
  }
  const ctx = kindCtx(env, config);
  const layout = backupLayout(ctx);
  if (!layout) {
    throw new BackupError(service, 'has no backup: section at its current release', `add backup: { retention: { full: 4 } } to services.${service} in the stack file, then run: symphony apply`);
  }
  const running = deps.store.instances(env, { release: rec.currentRelease, live: true }).some((i) => isRunning(deps, i));
  const base = { env, service, release: rec.currentRelease, config, layout, kind, running };
  if (kind === 'postgres') {
    const server = postgresLayout(ctx);
    writeArchiveConfig(ctx, server);
    const password = deps.vault.substitute(env, config.instances[0]?.env[PASSWORD_ENV] ?? '');
    return { ...base, server, engine: new PgBackRest(layout, password), password };
  }
  const format = kind === 'etcd' ? etcdSnapshotFormat(ctx) : volumeArchiveFormat(service, ctx.volumePath!);
  return { ...base, server: null, engine: new SnapshotRepo(service, layout.repoPath, format), password: '' };
}


/** Every service of every environment whose current release has a `backup:` section. */
export function backedUpServices(deps: ExecDeps): Array<{ env: string; service: string; config: ReleaseConfig }> {
  const envs = deps.store.envs();
  const out: Array<{ env: string; service: string; config: ReleaseConfig }> = [];
  for (const env of envs) {
    for (const s of deps.store.services(env)) {
      if (!s.currentRelease) continue;
      const config = deps.store.release(s.currentRelease)?.config as ReleaseConfig | undefined;
      if (config && backedUpKind(config) && backupLayout(kindCtx(env, config))) out.push({ env, service: s.name, config });
    }
  }
  return out;
}
