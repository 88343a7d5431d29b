import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { KindContext } from '../kinds/types.js';
import type { BackupSpec } from '../spec/schema.js';
import type { Retention } from './types.js';

/** Where a service's backup engine keeps its configuration, locks, logs and repository. */
export interface BackupLayout {
  service: string;
  /** pgBackRest's stanza: the service name. */
  stanza: string;
  /** Symphony-owned: `<state>/backup/<env>/<service>` (the config is rewritten from the stack each time). */
  dir: string;
  configPath: string;
  lockPath: string;
  logPath: string;
  /** The repository: `repository:` relative to the stack file, or `<dir>/repo`. */
  repoPath: string;
  retention: Retention;
  verifyCheck: string | null;
}

/** The kinds whose volumes Symphony backs up, and how: pgBackRest, etcd snapshots, archives of a plain volume. */
export type BackedUpKind = 'postgres' | 'etcd' | 'volume';

/** How a release's service is backed up, or null for a kind Symphony does not back up. */
export function backedUpKind(config: { kind: string }): BackedUpKind | null {
  return config.kind === 'postgres' ? 'postgres' : config.kind === 'etcd' ? 'etcd' : config.kind === 'app' ? 'volume' : null;
}

export const DEFAULT_RETENTION: Retention = { full: 4 };

/**
 * The state dir a volume lives in: volumes are `<state>/volumes/<env>/<name>`
 * (`volumePathOf` in src/plan/release.ts).
 */
export function stateDirOfVolume(volumePath: string): string {
  return dirname(dirname(dirname(volumePath)));
}

export function backupSpecOf(spec: Record<string, unknown>): BackupSpec | null {
  return (spec.backup as BackupSpec | undefined) ?? null;
}

/** The backup layout of a service with a `backup:` section and a volume, or null. Pure. */
export function backupLayout(ctx: Pick<KindContext, 'env' | 'service' | 'spec' | 'stackDir' | 'volumePath'>): BackupLayout | null {
  const spec = backupSpecOf(ctx.spec);
  if (!spec || !ctx.volumePath) return null;
  const dir = join(stateDirOfVolume(ctx.volumePath), 'backup', ctx.env, ctx.service);
  const repo = spec.repository;
  return {
    service: ctx.service,
    stanza: ctx.service,
    dir,
    configPath: join(dir, 'pgbackrest.conf'),
    lockPath: join(dir, 'lock'),
    logPath: join(dir, 'log'),
    repoPath: repo ? (isAbsolute(repo) ? repo : resolve(ctx.stackDir, repo)) : join(dir, 'repo'),
    retention: spec.retention ?? DEFAULT_RETENTION,
    verifyCheck: spec.verify?.check ?? null,
  };
}
