import type { ExecDeps } from '../apply/context.js';
import { BackupError } from './errors.js';
import { BackupRecords, type VerificationRecord } from './records.js';
import { expiredBackups, restoreWindowStart } from './retention.js';
import { backedUpService } from './service.js';
import type { BackupInfo, BackupType } from './types.js';
import { verifySnapshot } from './snapshots/verify.js';
import { verifyBackup } from './verify.js';

/** What `symphony backup list` shows. */
export interface BackupListing {
  env: string;
  service: string;
  repository: string;
  backups: Array<BackupInfo & { verified: { ok: boolean; at: string } | null }>;
  /** Archived WAL segments: a restore can reach any moment from `window.from` to the last archived segment. */
  wal: { min: string; max: string } | null;
  window: { from: string } | null;
  retention: string;
}

/** What `status` shows per backed-up service. */
export interface BackupSummary {
  service: string;
  last: { id: string; type: BackupType; end: string; ageSeconds: number } | null;
  verification: { backup: string; at: string; ok: boolean; detail: string } | null;
  count: number;
}

/** Take a backup now, then apply retention. The stanza is created first (idempotent). */
export async function takeBackup(deps: ExecDeps, env: string, service: string, type: BackupType): Promise<{ backup: BackupInfo; expired: string[] }> {
  const svc = backedUpService(deps, env, service);
  if (!svc.running) throw new BackupError(service, 'its server is not running, so no backup can be taken', `start it: symphony apply${env === 'default' ? '' : ` --env ${env}`}`);
  await svc.engine.init();
  const backup = await svc.engine.take(type);
  deps.store.addEvent(env, 'backup-taken', `${type} backup ${backup.id} of ${service}: ${(backup.bytes / 1e6).toFixed(1)} MB in ${((Date.parse(backup.end) - Date.parse(backup.start)) / 1000).toFixed(1)} s`, { service });
  const expired = expiredBackups(await svc.engine.list(), svc.layout.retention, new Date());
  if (expired.length) {
    await svc.engine.expire(expired);
    deps.store.addEvent(env, 'backup-expired', `expired ${expired.join(', ')} of ${service} (retention ${JSON.stringify(svc.layout.retention)})`, { service });
  }
  return { backup, expired };
}

export async function listBackups(deps: ExecDeps, env: string, service: string): Promise<BackupListing> {
  const svc = backedUpService(deps, env, service);
  const backups = await svc.engine.list();
  const checks = new BackupRecords(deps.store).verifications(env, service, 200);
  return {
    env,
    service,
    repository: svc.layout.repoPath,
    backups: backups.map((b) => {
      const v = checks.find((c) => c.backup === b.id);
      return { ...b, verified: v ? { ok: v.ok, at: v.at } : null };
    }),
    wal: await svc.engine.walRange(),
    window: backups.length ? { from: restoreWindowStart(backups) as string } : null,
    retention: JSON.stringify(svc.layout.retention),
  };
}

/** Restore a backup (the newest by default) into a throwaway server, run the check, record the verdict. */
export async function verify(deps: ExecDeps, env: string, service: string, id?: string): Promise<VerificationRecord> {
  const svc = backedUpService(deps, env, service);
  const backups = await svc.engine.list();
  const backup = id ? backups.find((b) => b.id === id) : backups[backups.length - 1];
  if (!backup) throw new BackupError(service, id ? `has no backup ${id}` : 'has no backup to verify yet', id ? `list them: symphony backup list ${service}` : `take one: symphony backup now ${service} --wait`);
  const rec = svc.kind === 'postgres' ? await verifyBackup(svc, backup.id, svc.layout.verifyCheck ?? 'select true') : await verifySnapshot(svc, backup.id);
  new BackupRecords(deps.store).addVerification(rec);
  deps.store.addEvent(env, rec.ok ? 'backup-verified' : 'backup-verify-failed', `verification of ${backup.id} of ${service}: ${rec.ok ? 'passed' : 'FAILED'} (${rec.detail})`, { service });
  return rec;
}

export async function summary(deps: ExecDeps, env: string, service: string, now = new Date()): Promise<BackupSummary> {
  const svc = backedUpService(deps, env, service);
  const backups = await svc.engine.list().catch(() => [] as BackupInfo[]);
  const last = backups[backups.length - 1];
  const v = new BackupRecords(deps.store).lastVerification(env, service);
  return {
    service,
    last: last ? { id: last.id, type: last.type, end: last.end, ageSeconds: Math.round((now.getTime() - Date.parse(last.end)) / 1000) } : null,
    verification: v ? { backup: v.backup, at: v.at, ok: v.ok, detail: v.detail } : null,
    count: backups.length,
  };
}
