import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { kindCtx } from '../apply/instances.js';
import { clusterToken, EtcdCluster, etcdMembers, memberEndpoints } from '../kinds/etcd/index.js';
import { restoreSnapshot } from '../kinds/etcd/restore.js';
import { PASSWORD_ENV, postgresLayout } from '../kinds/postgres/index.js';
import { asServerUser, serverUser } from '../kinds/postgres/server-user.js';
import type { ReleaseConfig } from '../plan/types.js';
import { run } from '../util/exec.js';
import { RehearsalError } from './errors.js';
import { copyFilesVerified } from './file-copy.js';
import type { CurrentService } from './translate.js';

/** How one volume was copied, for the report. */
export interface VolumeCopy {
  service: string;
  volume: string;
  method: 'pg_basebackup' | 'etcd-snapshot' | 'file-copy';
  from: string;
  to: string;
  /** A point-in-time image of the volume. Always for postgres and etcd; for a file copy, only when nothing changed during it. */
  consistent: boolean;
  /** How consistency was obtained, or which files changed during a file copy. */
  detail: string;
}

export interface VolumeCopyInput {
  rehearsal: string;
  env: string;
  /** The target's service at its current release, and the same release translated for the copy. */
  service: CurrentService;
  copy: ReleaseConfig;
  /** Resolves `${secrets.NAME}` with the target's values (never logged). */
  secret: (template: string) => string;
  /** Scratch directory of the copy (snapshots). */
  scratch: string;
}

function fail(inp: VolumeCopyInput, message: string, hint: string): never {
  throw new RehearsalError(inp.rehearsal, `copy of volume ${inp.service.config.volume} (${inp.service.name})`, message, hint);
}

function ownByServer(path: string): void {
  const user = serverUser();
  if (user) chownSync(path, user.uid, user.gid);
}

/**
 * Postgres: `pg_basebackup` from the running target (a consistent snapshot:
 * the copy starts from the backup's checkpoint and replays the WAL streamed
 * with it). Other files of the volume (bootstrap marker) are copied as they are.
 */
async function copyPostgres(inp: VolumeCopyInput, from: string, to: string): Promise<void> {
  const layout = postgresLayout(kindCtx(inp.env, inp.service.config));
  const copyLayout = postgresLayout(kindCtx(inp.env, inp.copy));
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(from)) {
    if (join(from, name) === layout.dataDir || join(from, name) === layout.socketDir) continue;
    cpSync(join(from, name), join(to, name), { recursive: true, preserveTimestamps: true });
  }
  mkdirSync(copyLayout.socketDir, { recursive: true, mode: 0o700 });
  for (const dir of [to, copyLayout.socketDir]) ownByServer(dir);
  const password = inp.secret(inp.service.config.instances[0]?.env[PASSWORD_ENV] ?? '');
  const [cmd, args] = asServerUser(join(layout.binDir, 'pg_basebackup'), [
    '-h', '127.0.0.1', '-p', String(layout.port), '-U', 'postgres', '-w',
    '-D', copyLayout.dataDir, '-X', 'stream', '-c', 'fast', '--no-sync',
  ]);
  const res = await run(cmd, args, { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' }, timeoutMs: 600_000 });
  if (res.code !== 0) {
    const why = password ? res.stderr.trim().split(password).join('(secret)') : res.stderr.trim();
    fail(inp, `pg_basebackup from 127.0.0.1:${layout.port} failed (exit ${res.code}): ${why}`, `check that the target's postgres runs (symphony status --env ${inp.env}) and allows replication connections from 127.0.0.1`);
  }
}

/**
 * etcd: one snapshot of the running cluster (`/v3/maintenance/snapshot`, the
 * call `etcdctl snapshot save` makes: one read transaction of the backend, so
 * a point-in-time image), restored into a fresh data directory per copy
 * member with the copy's names and peer URLs and a token of its own. Member
 * and cluster ids are derived from peer URLs and token, so the copy's ids can
 * never equal the target's: a copy member that reached a target peer would be
 * refused (cluster id mismatch) instead of being taken for one of its members.
 */
async function copyEtcd(inp: VolumeCopyInput, to: string): Promise<number> {
  const snap = join(inp.scratch, `${inp.service.name}.snapshot.db`);
  mkdirSync(inp.scratch, { recursive: true, mode: 0o700 });
  const target = etcdMembers(kindCtx(inp.env, inp.service.config));
  const ctx = kindCtx(inp.env, inp.copy);
  const members = etcdMembers(ctx);
  const targetPorts = new Set(target.flatMap((m) => [m.clientPort, m.peerPort]));
  const shared = members.filter((m) => targetPorts.has(m.clientPort) || targetPorts.has(m.peerPort));
  if (shared.length) fail(inp, `copy member ${shared[0].name} would use a port of the target (${shared[0].clientPort}/${shared[0].peerPort})`, 'this is a bug in the rehearsal port map: report it with symphony rehearse --json');
  try {
    await new EtcdCluster(memberEndpoints(kindCtx(inp.env, inp.service.config))).snapshot(snap);
  } catch (err) {
    fail(inp, `snapshot of the target's cluster failed: ${(err as Error).message}`, `check the cluster: symphony status --env ${inp.env}`);
  }
  const token = rehearsalToken(clusterToken(ctx), inp.rehearsal);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const m of members) {
    if (existsSync(m.dataDir)) fail(inp, `${m.dataDir} already exists`, 'a copy starts from an empty directory: remove it and rehearse again');
  }
  const failed = await restoreSnapshot(snap, members, token);
  if (failed) fail(inp, `etcdctl snapshot restore into ${failed.dataDir} failed (exit ${failed.code}): ${failed.stderr}`, 'run the same etcdctl command by hand to see why');
  const bytes = statSync(snap).size;
  rmSync(snap, { force: true });
  return bytes;
}

/** The copy's cluster token: the target's, marked with the rehearsal, so no copy member shares an id with the target. */
export function rehearsalToken(targetToken: string, rehearsal: string): string {
  return `${targetToken}-rehearsal-${rehearsal}`;
}

/** Copy the volume of one service of the target into the copy, consistently for its kind. */
export async function copyVolume(inp: VolumeCopyInput): Promise<VolumeCopy | null> {
  const from = inp.service.config.volumePath;
  const to = inp.copy.volumePath;
  const volume = inp.service.config.volume;
  if (!from || !to || !volume) return null;
  if (!existsSync(from)) fail(inp, `the target's volume ${from} does not exist`, `restore it or run symphony apply --env ${inp.env} first`);
  mkdirSync(join(to, '..'), { recursive: true, mode: 0o711 });
  const base = { service: inp.service.name, volume, from, to };
  if (inp.service.kind === 'postgres') {
    await copyPostgres(inp, from, to);
    return { ...base, method: 'pg_basebackup', consistent: true, detail: 'backup checkpoint + WAL streamed during the backup' };
  }
  if (inp.service.kind === 'etcd') {
    const bytes = await copyEtcd(inp, to);
    return { ...base, method: 'etcd-snapshot', consistent: true, detail: `one snapshot (${bytes} bytes) restored into every member` };
  }
  const r = await copyFilesVerified(from, to);
  const shown = r.changed.slice(0, 5).join(', ') + (r.changed.length > 5 ? `, … (${r.changed.length})` : '');
  const detail = r.consistent
    ? `${r.files} file${r.files === 1 ? '' : 's'}, none changed during the copy`
    : `NOT point-in-time: ${shown} changed during each of ${r.attempts} copies (the app kept writing); files are whole, the set may mix moments`;
  return { ...base, method: 'file-copy', consistent: r.consistent, detail };
}
