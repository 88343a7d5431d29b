import type { BackupInfo, Retention } from './types.js';

/** The part of a backup retention looks at. */
export type RetainedBackup = Pick<BackupInfo, 'id' | 'type' | 'end' | 'prior'>;

/** The full backup a backup builds on (itself for a full), following `prior` links. */
function baseFull(b: RetainedBackup, byId: Map<string, RetainedBackup>): string | null {
  let cur: RetainedBackup | undefined = b;
  const seen = new Set<string>();
  while (cur && cur.type !== 'full') {
    if (seen.has(cur.id) || cur.prior === null) return null;
    seen.add(cur.id);
    cur = byId.get(cur.prior);
  }
  return cur ? cur.id : null;
}

/**
 * Which backups retention removes. `{ full: N }` keeps the newest N full
 * backups; `{ days: D }` keeps every full that ended within D days before `now`
 * plus the newest one before that window (a restore to the window's first
 * second starts from it). A diff or incr goes with the full it builds on; one
 * whose full is gone already goes too. The newest full is never removed. Pure:
 * ids to expire, oldest first.
 */
export function expiredBackups(backups: RetainedBackup[], retention: Retention, now: Date): string[] {
  const byId = new Map(backups.map((b) => [b.id, b]));
  const fulls = backups.filter((b) => b.type === 'full').sort((a, b) => a.end.localeCompare(b.end));
  const keep = new Set<string>();
  if ('full' in retention) {
    for (const f of fulls.slice(-retention.full)) keep.add(f.id);
  } else {
    const from = new Date(now.getTime() - retention.days * 86_400_000).toISOString();
    const inWindow = fulls.filter((f) => f.end >= from);
    const before = fulls.filter((f) => f.end < from);
    for (const f of inWindow) keep.add(f.id);
    if (before.length) keep.add(before[before.length - 1].id);
  }
  if (fulls.length) keep.add(fulls[fulls.length - 1].id);
  return [...backups]
    .sort((a, b) => a.end.localeCompare(b.end))
    .filter((b) => {
      const base = baseFull(b, byId);
      return base === null || !keep.has(base);
    })
    .map((b) => b.id);
}

/**
 * The earliest moment a restore can reach: the end of the oldest backup that
 * stays (WAL is archived continuously from there). Null without backups. Pure.
 */
export function restoreWindowStart(backups: RetainedBackup[]): string | null {
  const fulls = backups.filter((b) => b.type === 'full').map((b) => b.end).sort();
  return fulls[0] ?? null;
}
