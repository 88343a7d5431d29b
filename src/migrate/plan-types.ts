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
  /** View statements of the new schema (emitted after startTx's physical changes, in the same transaction). */
  views: string[];
  /** Physical tables whose rows are touched in batches so the triggers fill new columns. */
  backfill: string[];
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
}

export function variableDecls(columns: ColumnLayout[]): string {
  return columns.map((c) => `"${c.name.replace(/"/g, '""')}" ${c.type} := NEW."${c.physical.replace(/"/g, '""')}";`).join(' ');
}
