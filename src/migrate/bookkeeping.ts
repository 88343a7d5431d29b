import type pg from 'pg';
import type { Layout } from './layout.js';
import { BOOKKEEPING_SCHEMA } from './names.js';
import type { Operation } from './operations.js';
import type { MovedAside } from './plan-types.js';

export type VersionStatus = 'in-flight' | 'complete' | 'rolled-back' | 'failed';

/** One row of `symphony_migrations.versions`. */
export interface VersionRecord {
  name: string;
  file: string;
  schema: string;
  previous: string;
  status: VersionStatus;
  startedAt: string;
  completedAt: string | null;
  operations: Operation[];
  layoutBefore: Layout;
  movedAside: MovedAside[];
  error: string | null;
  /** Per table, how far committed backfill batches got (the highest key, or `page:<next>:<end>`); a resumed start goes on from there. */
  backfillProgress: Record<string, string>;
}

const S = BOOKKEEPING_SCHEMA;

/** Statements that create the bookkeeping schema; safe to run again. */
export const BOOKKEEPING_DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${S}`,
  `CREATE TABLE IF NOT EXISTS ${S}.versions (
     name text PRIMARY KEY,
     file text NOT NULL,
     schema text NOT NULL,
     previous text NOT NULL,
     status text NOT NULL CHECK (status IN ('in-flight', 'complete', 'rolled-back', 'failed')),
     started_at timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz,
     operations jsonb NOT NULL,
     layout_before jsonb NOT NULL,
     moved_aside jsonb NOT NULL DEFAULT '[]',
     error text,
     backfill_progress jsonb NOT NULL DEFAULT '{}')`,
  // Bookkeeping made by an engine from before backfill progress was recorded.
  `ALTER TABLE ${S}.versions ADD COLUMN IF NOT EXISTS backfill_progress jsonb NOT NULL DEFAULT '{}'`,
  `CREATE UNIQUE INDEX IF NOT EXISTS versions_one_in_flight ON ${S}.versions ((true)) WHERE status = 'in-flight'`,
  // Called once per written row by every migration trigger: current_schemas() is the parsed,
  // cached search_path (about 20x cheaper than splitting the setting's text each time).
  `CREATE OR REPLACE FUNCTION ${S}.in_version(v text) RETURNS boolean LANGUAGE sql STABLE AS $$
     SELECT v::name = ANY (current_schemas(false)) $$`,
];

interface Row {
  name: string; file: string; schema: string; previous: string; status: VersionStatus;
  started_at: Date; completed_at: Date | null; operations: Operation[]; layout_before: Layout; moved_aside: MovedAside[]; error: string | null;
  backfill_progress: Record<string, string>;
}

function toRecord(r: Row): VersionRecord {
  return {
    name: r.name, file: r.file, schema: r.schema, previous: r.previous, status: r.status,
    startedAt: r.started_at.toISOString(), completedAt: r.completed_at ? r.completed_at.toISOString() : null,
    operations: r.operations, layoutBefore: r.layout_before, movedAside: r.moved_aside, error: r.error,
    backfillProgress: r.backfill_progress,
  };
}

export async function bookkeepingExists(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'versions'`, [S]);
  return r.rowCount === 1;
}

export async function listVersions(client: pg.ClientBase): Promise<VersionRecord[]> {
  if (!(await bookkeepingExists(client))) return [];
  const r = await client.query<Row>(`SELECT * FROM ${S}.versions ORDER BY started_at, name`);
  return r.rows.map(toRecord);
}

export function insertVersion(rec: Pick<VersionRecord, 'name' | 'file' | 'schema' | 'previous' | 'operations' | 'layoutBefore'>): [string, unknown[]] {
  return [
    `INSERT INTO ${S}.versions (name, file, schema, previous, status, operations, layout_before) VALUES ($1, $2, $3, $4, 'in-flight', $5, $6)
     ON CONFLICT (name) DO UPDATE SET status = 'in-flight', started_at = now(), completed_at = NULL, error = NULL, backfill_progress = '{}',
       schema = EXCLUDED.schema, previous = EXCLUDED.previous, operations = EXCLUDED.operations, layout_before = EXCLUDED.layout_before`,
    [rec.name, rec.file, rec.schema, rec.previous, JSON.stringify(rec.operations), JSON.stringify(rec.layoutBefore)],
  ];
}

export function finishVersion(name: string, status: VersionStatus, extra: { movedAside?: MovedAside[]; error?: string } = {}): [string, unknown[]] {
  return [
    // moved_aside accumulates: a version rolled back twice reports what both rollbacks kept.
    `UPDATE ${S}.versions SET status = $2, completed_at = now(), moved_aside = moved_aside || $3::jsonb, error = $4 WHERE name = $1`,
    [name, status, JSON.stringify(extra.movedAside ?? []), extra.error ?? null],
  ];
}

/**
 * A CTE for a backfill batch statement: records `hi` (a subquery of the same
 * statement: the batch's upper key, or the next page) as the table's progress,
 * in the batch's own commit, so progress never claims a batch that did not
 * commit. Placeholders `$<table>` and `$<version>` are numbered by the caller.
 */
export function progressCte(hi: string, tableParam: number, versionParam: number): string {
  return `p AS (UPDATE ${S}.versions SET backfill_progress = backfill_progress || jsonb_build_object($${tableParam}::text, (${hi})::text)
    WHERE name = $${versionParam} AND (${hi}) IS NOT NULL)`;
}
