import type { Layout, ColumnLayout } from './layout.js';

/** A column or table that rollback renamed aside instead of dropping. */
export interface MovedAside {
  kind: 'column' | 'table';
  table: string;
  from: string;
  to: string;
}

/** Statements one operation contributes to the old-side / new-side branch of its table's trigger. */
export interface TriggerFragment {
  table: string;
  oldSide: string[];
  newSide: string[];
  /** The old-side assignments as data, so the backfill can compute them itself. */
  fills: BackfillFill[];
}

/** One column the old side of a trigger fills: `column := value`, only where it is NULL when `onlyWhenNull`. */
export interface BackfillFill {
  column: string;
  value: string;
  onlyWhenNull: boolean;
}

/**
 * How one table is backfilled. With `direct`, each batch's UPDATE computes the
 * table's single fill itself and the trigger steps aside (session flag
 * `symphony.backfill`); without, the batch touches rows and the trigger fills them.
 */
export interface BackfillStep {
  table: string;
  direct: BackfillFill | null;
}

/**
 * Everything a migration does, as SQL, per phase. Pure data: the executor runs
 * each list (the `tx` lists inside one transaction, the others one statement
 * at a time) and nothing clever.
 */
export interface MigrationPlan {
  version: string;
  schema: string;
  base: string;
  hash: string;
  before: Layout;
  after: Layout;
  /** sql operations change the catalogue in ways only a re-read can tell. */
  rereadAfterStart: boolean;
  startTx: string[];
  startConcurrent: string[];
  /** Indexes over columns the backfill fills (unique and primary keys of copied columns): built after it. */
  startAfterBackfill: string[];
  /** View statements of the new schema (emitted after startTx's physical changes, in the same transaction). */
  views: string[];
  /** Physical tables whose rows are touched in batches so the triggers fill new columns. */
  backfill: string[];
  /** Per backfilled table, whether the batches compute its fill directly (see BackfillStep). */
  backfillSteps: BackfillStep[];
  validate: string[];
  completeTx: string[];
  completeConcurrent: string[];
  rollbackTx: string[];
  rollbackConcurrent: string[];
  abortTx: string[];
  abortConcurrent: string[];
  movedAside: MovedAside[];
}

/** Mutable state while planning; each operation adds to it. */
export interface PlanBuilder extends MigrationPlan {
  triggers: TriggerFragment[];
  /** Late complete statements (table renames and drops run after column changes). */
  completeLast: string[];
  viewDefaults: { table: string; column: string; default: string | null }[];
  touched: Set<string>;
  seq: number;
  /** Names in use (`t:<relation>`, `c:<table>.<column>`) that rollback's aside names must avoid. */
  asideTaken: ReadonlySet<string>;
}

export function variableDecls(columns: ColumnLayout[]): string {
  return columns.map((c) => `"${c.name.replace(/"/g, '""')}" ${c.type} := NEW."${c.physical.replace(/"/g, '""')}";`).join(' ');
}
