/** The backup types pgBackRest knows; etcd snapshots and volume archives are always `full`. */
export type BackupType = 'full' | 'diff' | 'incr';

/** One backup in a repository, as `symphony backup list` shows it. */
export interface BackupInfo {
  /** The engine's label (pgBackRest: `20261203-182045F`, a diff/incr appends `_…D`/`_…I`). */
  id: string;
  type: BackupType;
  /** ISO times. */
  start: string;
  end: string;
  /** Size of the data it restores, and what it takes in the repository. */
  bytes: number;
  repoBytes: number;
  /** The backup this one needs (a diff or incr), or null for a full. */
  prior: string | null;
  /** First and last WAL segment the backup needs to be consistent. */
  wal: { start: string; stop: string } | null;
}

/** What a service's backups can be restored to. */
export type RestoreTarget = { time: string } | { backup: string };

/** Retention as the stack file gives it. */
export type Retention = { full: number } | { days: number };

/**
 * One engine of backups for one service: pgBackRest for postgres; etcd
 * snapshots and volume archives slot in beside it with the same shape.
 */
export interface Backup {
  readonly engine: 'pgbackrest' | 'etcd-snapshot' | 'volume-archive';
  /** Make the repository ready (idempotent). */
  init(): Promise<void>;
  take(type: BackupType): Promise<BackupInfo>;
  list(): Promise<BackupInfo[]>;
  /** Remove these backups (and whatever only they needed, such as old WAL). */
  expire(ids: string[]): Promise<void>;
  /** Restore into an empty data directory; the server replays to the target when it starts. */
  restoreInto(dataDir: string, target: RestoreTarget): Promise<void>;
  /** Make everything written so far restorable (a WAL switch, archived). */
  flush(): Promise<void>;
}
