import type { VersionStatus } from '../bookkeeping.js';
import type { MigrationStatus } from '../engine.js';
import { MigrationInFlightError } from '../errors.js';
import type { Migration } from '../operations.js';
import type { MovedAside } from '../plan-types.js';
import { MigrationTargetError } from './errors.js';

/** One migration as an operator sees it: its file (if still present) and what the database recorded. */
export interface MigrationRow {
  name: string;
  /** Absolute path of the file, or null when only the database knows the version. */
  file: string | null;
  status: VersionStatus | 'pending';
  schema: string | null;
  startedAt: string | null;
  completedAt: string | null;
  movedAside: MovedAside[];
  error: string | null;
  /** Per table, how far the backfill committed (see VersionRecord.backfillProgress). */
  backfillProgress: Record<string, string>;
}

/**
 * Files and recorded versions merged: every file in name order (pending when
 * the database has no record), then versions recorded for files that are gone.
 */
export function migrationRows(files: Migration[], status: MigrationStatus): MigrationRow[] {
  const recorded = new Map(status.versions.map((v) => [v.name, v]));
  const rows: MigrationRow[] = files.map((m) => {
    const v = recorded.get(m.name);
    return v
      ? { name: m.name, file: m.file, status: v.status, schema: v.schema, startedAt: v.startedAt, completedAt: v.completedAt, movedAside: v.movedAside, error: v.error, backfillProgress: v.backfillProgress }
      : { name: m.name, file: m.file, status: 'pending', schema: null, startedAt: null, completedAt: null, movedAside: [], error: null, backfillProgress: {} };
  });
  const named = new Set(files.map((m) => m.name));
  for (const v of status.versions) {
    if (!named.has(v.name)) {
      rows.push({ name: v.name, file: null, status: v.status, schema: v.schema, startedAt: v.startedAt, completedAt: v.completedAt, movedAside: v.movedAside, error: v.error, backfillProgress: v.backfillProgress });
    }
  }
  return rows;
}

/**
 * The migration `start` should run: the named one, else the in-flight one
 * (resumed), else the first file not yet complete. Refuses a version that is
 * unknown, already complete, behind an unfinished earlier file, or a second
 * version while another is in flight. Pure.
 */
export function chooseStart(files: Migration[], status: MigrationStatus, dir: string, wanted?: string): Migration {
  const complete = new Set(status.versions.filter((v) => v.status === 'complete').map((v) => v.name));
  const inFlight = status.inFlight?.name;
  if (wanted === undefined) {
    const next = inFlight ?? files.find((m) => !complete.has(m.name))?.name;
    if (next === undefined) {
      throw new MigrationTargetError(`nothing to start: all ${files.length} migrations in ${dir} are complete`, `add a migration file to ${dir}, then run symphony migrate start`);
    }
    wanted = next;
  }
  const index = files.findIndex((m) => m.name === wanted);
  if (index < 0) {
    const known = files.map((m) => m.name).join(', ') || '(none)';
    throw new MigrationTargetError(`no migration file for version ${wanted} in ${dir} (versions there: ${known})`, `restore its file, or pick one: symphony migrate start <version>`);
  }
  if (inFlight && inFlight !== wanted) throw new MigrationInFlightError(inFlight, wanted);
  if (complete.has(wanted)) {
    throw new MigrationTargetError(`migration ${wanted} is already complete on this database`, 'nothing to do; see: symphony migrate status');
  }
  const earlier = files.slice(0, index).find((m) => !complete.has(m.name));
  if (earlier) {
    throw new MigrationTargetError(
      `cannot start ${wanted}: the earlier migration ${earlier.name} is not complete (migrations run in file-name order)`,
      `start it first: symphony migrate start ${earlier.name}`,
    );
  }
  return files[index];
}

/** The command an operator most likely wants next, given the rows. */
export function nextStep(rows: MigrationRow[]): string {
  const inFlight = rows.find((r) => r.status === 'in-flight');
  if (inFlight) return `${inFlight.name} is in flight: symphony migrate complete (once the old release is gone) or symphony migrate rollback`;
  const pending = rows.find((r) => r.file !== null && r.status !== 'complete');
  if (pending) return `symphony migrate start ${pending.name}`;
  return 'nothing pending';
}
