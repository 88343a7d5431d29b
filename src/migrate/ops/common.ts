import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findColumn, findTable, type ColumnLayout, type ConstraintLayout, type TableLayout } from '../layout.js';
import { asideName, fitIdent, ident, qualified } from '../names.js';
import type { PlanBuilder, TriggerFragment } from '../plan-types.js';

export const Ident = z.string().min(1).max(63).regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'an identifier: letters, digits, _ and $, starting with a letter or _');
export const Sql = z.string().min(1);
/** Per-column SQL expressions (`up` / `down` of multi-column operations): column name → expression. */
export const ColumnSql = z.record(Ident, Sql);

/** Where an operation sits, for messages: `file:line: operations.2 (add_column)`. */
export interface OpContext {
  where: string;
  /** The operation is the only one of its migration. */
  alone: boolean;
}

export function tableOf(b: PlanBuilder, name: string, where: string): TableLayout {
  const t = findTable(b.after, name);
  if (!t) throw new MigrationError(`${where}: table ${name} does not exist in version ${b.version}'s starting schema`, `known tables: ${b.after.tables.map((x) => x.name).join(', ') || '(none)'}`);
  return t;
}

/** A column this operation changes: it must exist and not be changed by another operation of the migration. */
export function columnOf(b: PlanBuilder, t: TableLayout, name: string, where: string): ColumnLayout {
  const c = findColumn(t, name);
  if (!c) throw new MigrationError(`${where}: table ${t.name} has no column ${name}`, `its columns: ${t.columns.map((x) => x.name).join(', ')}`);
  const key = `${t.physical}.${c.physical}`;
  if (b.touched.has(key)) throw new MigrationError(`${where}: column ${t.name}.${name} is changed twice in one migration`, 'split the changes into two migration files');
  b.touched.add(key);
  return c;
}

/** A column an operation only reads (index, reference): its physical name in the new version. */
export function physicalOf(t: TableLayout, name: string, where: string, what = 'column'): string {
  const c = findColumn(t, name);
  if (!c) throw new MigrationError(`${where}: table ${t.name} has no ${what} ${name}`, `its columns: ${t.columns.map((x) => x.name).join(', ')}`);
  return c.physical;
}

export function constraintOf(t: TableLayout, name: string, where: string): ConstraintLayout {
  const k = (t.constraints ?? []).find((x) => x.name === name);
  if (!k) throw new MigrationError(`${where}: table ${t.name} has no constraint ${name}`, `its constraints: ${(t.constraints ?? []).map((x) => x.name).join(', ') || '(none)'}`);
  return k;
}

export function constraintName(b: PlanBuilder, tag: string, column: string): string {
  return fitIdent(`_sym_${tag}_${b.hash}_${column}`);
}

/** Replace a column name by another identifier in an expression, leaving string literals alone. */
export function renameInExpression(expr: string, from: string, to: string): string {
  const word = new RegExp(`(?<![A-Za-z0-9_$."])("?)${from.replace(/[$]/g, '\\$')}\\1(?![A-Za-z0-9_$"])`, 'g');
  return expr.split("'").map((part, i) => (i % 2 === 0 ? part.replace(word, to) : part)).join("'");
}

/** An expression over the new version's column names, rewritten over the physical columns. */
export function physicalExpression(expr: string, t: TableLayout): string {
  return t.columns.reduce((e, c) => (c.physical === c.name ? e : renameInExpression(e, c.name, ident(c.physical))), expr);
}

export function fragment(b: PlanBuilder, t: TableLayout): TriggerFragment {
  let f = b.triggers.find((x) => x.table === t.physical);
  if (!f) b.triggers.push((f = { table: t.physical, oldSide: [], newSide: [], fills: [] }));
  return f;
}

export function backfill(b: PlanBuilder, t: TableLayout): void {
  if (!b.backfill.includes(t.physical)) b.backfill.push(t.physical);
}

/** Rollback renames a column the new version wrote aside instead of dropping it; an undone start drops it. */
export function moveAside(b: PlanBuilder, t: TableLayout, physical: string): void {
  const to = asideName(b.version, physical, (n) => b.asideTaken.has(`c:${t.physical}.${n}`));
  const table = qualified(b.base, t.physical);
  b.rollbackTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(physical)} DROP DEFAULT`, `ALTER TABLE ${table} RENAME COLUMN ${ident(physical)} TO ${ident(to)}`);
  b.movedAside.push({ kind: 'column', table: t.physical, from: physical, to });
  b.abortTx.push(`ALTER TABLE ${table} DROP COLUMN IF EXISTS ${ident(physical)}`);
}

/**
 * An index built concurrently at start (after the backfill when `afterBackfill`:
 * its columns are empty until then), dropped concurrently by rollback or an undone start.
 */
export function concurrentIndex(b: PlanBuilder, name: string, create: string, afterBackfill = false): void {
  (afterBackfill ? b.startAfterBackfill : b.startConcurrent).push(create);
  const drop = `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, name)}`;
  b.rollbackConcurrent.push(drop);
  b.abortConcurrent.push(drop);
}

export function comment(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replace(/'/g, "''")}'`;
}
