import type { StateStore } from '../state/store.js';

/** One verification of a backup: restored into a throwaway server and checked. */
export interface VerificationRecord {
  env: string;
  service: string;
  backup: string;
  at: string;
  ok: boolean;
  /** What the check returned, or why it failed. */
  detail: string;
  durationMs: number;
}

/** Backup events kept beside the state store's tables: verifications and the last scheduled run's outcome. */
const SQL = `
CREATE TABLE IF NOT EXISTS backup_verifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, env TEXT NOT NULL, service TEXT NOT NULL, backup TEXT NOT NULL,
  at TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL, duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS backup_verifications_by_service ON backup_verifications (env, service, seq);
`;

type Row = { env: string; service: string; backup: string; at: string; ok: number; detail: string; duration_ms: number };

const toRecord = (r: Row): VerificationRecord => ({ env: r.env, service: r.service, backup: r.backup, at: r.at, ok: r.ok === 1, detail: r.detail, durationMs: r.duration_ms });

/** Verifications in the state store (its own table, created on first use). */
export class BackupRecords {
  constructor(private readonly store: StateStore) {
    store.db.exec(SQL);
  }

  addVerification(v: VerificationRecord): void {
    this.store.db
      .prepare(`INSERT INTO backup_verifications (env, service, backup, at, ok, detail, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(v.env, v.service, v.backup, v.at, v.ok ? 1 : 0, v.detail, v.durationMs);
  }

  /** Newest first. */
  verifications(env: string, service: string, limit = 20): VerificationRecord[] {
    const rows = this.store.db
      .prepare(`SELECT * FROM backup_verifications WHERE env = ? AND service = ? ORDER BY seq DESC LIMIT ?`)
      .all(env, service, limit) as Row[];
    return rows.map(toRecord);
  }

  lastVerification(env: string, service: string): VerificationRecord | null {
    return this.verifications(env, service, 1)[0] ?? null;
  }
}
