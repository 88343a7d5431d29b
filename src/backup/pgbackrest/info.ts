import type { BackupInfo, BackupType } from '../types.js';

/** The part of `pgbackrest info --output=json` Symphony reads. */
interface RawBackup {
  label: string;
  type: BackupType;
  prior: string | null;
  error?: boolean;
  timestamp: { start: number; stop: number };
  info: { size: number; repository: { delta: number; size?: number } };
  archive?: { start: string | null; stop: string | null } | null;
}

interface RawStanza {
  name: string;
  backup?: RawBackup[];
  archive?: Array<{ min: string | null; max: string | null }>;
  status?: { code: number; message: string };
}

const iso = (s: number): string => new Date(s * 1000).toISOString();

/** Map pgBackRest's info JSON of one stanza to backups, oldest first; a backup that failed is left out. Pure. */
export function parseInfo(json: string, stanza: string): { backups: BackupInfo[]; wal: { min: string; max: string } | null } {
  const all = JSON.parse(json) as RawStanza[];
  const s = all.find((x) => x.name === stanza);
  if (!s) return { backups: [], wal: null };
  const backups = (s.backup ?? [])
    .filter((b) => !b.error)
    .map((b) => ({
      id: b.label,
      type: b.type,
      start: iso(b.timestamp.start),
      end: iso(b.timestamp.stop),
      bytes: b.info.size,
      repoBytes: b.info.repository.delta,
      prior: b.prior,
      wal: b.archive?.start && b.archive.stop ? { start: b.archive.start, stop: b.archive.stop } : null,
    }))
    .sort((a, b) => a.end.localeCompare(b.end));
  const arch = (s.archive ?? []).filter((a) => a.min && a.max);
  const wal = arch.length ? { min: arch[0].min as string, max: arch[arch.length - 1].max as string } : null;
  return { backups, wal };
}
