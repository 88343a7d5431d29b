import { MigrationError } from '../../errors.js';
import type { ColumnLayout, TableLayout } from '../layout.js';
import { ident, qualified, shadowColumn } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import type { Check, References } from './column.js';
import { backfill, fragment, moveAside } from './common.js';
import { addConstraints } from './constraints.js';

/** How a column is duplicated for the new version; unset fields keep the column's own. */
export interface ShadowSpec {
  /** Old-version expression filling the new column (default: the column itself). */
  up?: string;
  /** New-version expression filling the old column (default: the new column). */
  down?: string;
  type?: string;
  default?: string | null;
  notNull?: boolean;
  name?: string;
  check?: Check;
  references?: References;
}

/**
 * Refuse to duplicate columns that other constraints cover: the new column would
 * not carry them and complete would drop them with the old column.
 */
export function assertShadowable(t: TableLayout, columns: ColumnLayout[], except: string | null, where: string): void {
  for (const c of columns) {
    if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: ${t.name}.${c.name} is part of the primary key, whose columns cannot be duplicated while both versions write`, 'change the key in a new table, or with a sql migration');
    const other = (t.constraints ?? []).find((k) => k.name !== except && k.columns.includes(c.physical));
    if (other) {
      throw new MigrationError(
        `${where}: ${t.name}.${c.name} is also covered by constraint ${other.name}; this operation gives the new version a copy of the column, which would not carry ${other.name}`,
        `drop ${other.name} first (drop_multicolumn_constraint in an earlier migration), then re-create it after this one`,
      );
    }
  }
}

/**
 * Give the new version its own copy of a column (`_sym_new_<column>`): added at
 * start, kept in sync both ways by the table's trigger (`up` from old writes,
 * `down` from new writes), backfilled; complete drops the old column and renames
 * the copy into place; rollback renames the copy aside. Returns the copy's name.
 */
export function shadow(b: PlanBuilder, t: TableLayout, c: ColumnLayout, spec: ShadowSpec, where: string): string {
  const table = qualified(b.base, t.physical);
  const copy = shadowColumn(c.physical);
  const finalName = spec.name ?? c.name;
  const type = spec.type ?? c.type;
  const dflt = spec.default !== undefined ? spec.default : c.default;
  const notNull = spec.notNull ?? !c.nullable;
  b.startTx.push(`ALTER TABLE ${table} ADD COLUMN ${ident(copy)} ${type}`);
  if (dflt !== null) b.startTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(copy)} SET DEFAULT ${dflt}`);
  addConstraints(b, t, copy, finalName, { check: spec.check, references: spec.references, notNull }, where);
  const f = fragment(b, t);
  const up = spec.up ?? ident(c.name);
  f.oldSide.push(`NEW.${ident(copy)} := (${up});`);
  f.fills.push({ column: copy, value: up, onlyWhenNull: false });
  f.newSide.push(`NEW.${ident(c.physical)} := (${spec.down ?? ident(finalName)});`);
  backfill(b, t);
  b.completeTx.unshift(`ALTER TABLE ${table} DROP COLUMN ${ident(c.physical)}`, `ALTER TABLE ${table} RENAME COLUMN ${ident(copy)} TO ${ident(finalName)}`);
  moveAside(b, t, copy);
  t.constraints = (t.constraints ?? []).filter((k) => !k.columns.includes(c.physical));
  Object.assign(c, { name: finalName, physical: copy, type, nullable: !notNull, default: dflt });
  return copy;
}
