import { MigrationError } from '../../errors.js';
import type { ColumnLayout, TableLayout } from '../layout.js';
import { fitIdent, ident, qualified, shadowColumn } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import type { Check, References } from './column.js';
import { backfill, concurrentIndex, fragment, moveAside, renameInExpression } from './common.js';
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
 * Refuse to duplicate columns whose constraints a copy cannot carry: the primary
 * key, exclusion constraints, and constraints made earlier in the same migration.
 */
export function assertShadowable(b: PlanBuilder, t: TableLayout, columns: ColumnLayout[], except: string | null, where: string): void {
  for (const c of columns) {
    const incoming = referencing(b, t, c.physical);
    if (incoming) {
      throw new MigrationError(
        `${where}: ${t.name}.${c.name} is referenced by foreign key ${incoming.name} of table ${incoming.table}; this operation gives the new version a copy of the column, and complete could not drop the old one`,
        `drop ${incoming.name} in an earlier migration and re-create it after this one`,
      );
    }
    if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: ${t.name}.${c.name} is part of the primary key, whose columns cannot be duplicated while both versions write`, 'change the key in a new table, or with a sql migration');
    const other = (t.constraints ?? []).find((k) => k.name !== except && k.columns.includes(c.physical) && (k.type === 'exclude' || k.type === 'primary_key' || !k.definition));
    if (other) {
      throw new MigrationError(
        `${where}: ${t.name}.${c.name} is also covered by ${other.type.replace('_', ' ')} constraint ${other.name}, which a copy of the column cannot carry (this operation gives the new version a copy)`,
        other.definition ? `drop ${other.name} in an earlier migration and re-create it after this one` : 'move this operation to a migration of its own',
      );
    }
  }
}

/** A foreign key of any table whose definition references `column` of `t`. */
function referencing(b: PlanBuilder, t: TableLayout, column: string): { table: string; name: string } | null {
  const target = new RegExp(`REFERENCES (?:[^ (]+\\.)?"?${t.physical.replace(/[$]/g, '\\$')}"?\\(([^)]*)\\)`);
  for (const other of b.after.tables) {
    for (const k of other.constraints ?? []) {
      const m = k.type === 'foreign_key' && k.definition ? target.exec(k.definition) : null;
      if (m && m[1].split(',').map((x) => x.trim().replace(/^"|"$/g, '')).includes(column)) return { table: other.name, name: k.name };
    }
  }
  return null;
}

/**
 * The constraints and indexes over copied columns, made again over the copies
 * under temporary names (checks and foreign keys NOT VALID, indexes concurrently
 * after the backfill) and given their own names at complete, once the old columns
 * are dropped with the originals. `except` is the constraint being dropped.
 */
export function carryConstraints(b: PlanBuilder, t: TableLayout, copies: Map<string, string>, except: string | null): void {
  const table = qualified(b.base, t.physical);
  const rename = (text: string) => [...copies].reduce((e, [from, to]) => renameInExpression(e, from, ident(to)), text);
  const covers = (cols: string[]) => cols.some((c) => copies.has(c));
  const moved = (cols: string[]) => cols.map((c) => copies.get(c) ?? c);
  for (const k of (t.constraints ?? []).filter((x) => covers(x.columns) && x.name !== except && x.definition)) {
    const tmp = fitIdent(`_sym_${b.hash}_${k.name}`);
    const def = (k.definition as string).replace(/\s+NOT VALID$/, '');
    if (k.type === 'check' || k.type === 'foreign_key') {
      const [head, ...rest] = def.split(' REFERENCES ');
      const body = k.type === 'check' ? rename(def) : [rename(head), ...rest].join(' REFERENCES ');
      b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(tmp)} ${body} NOT VALID`);
      b.validate.push(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${ident(tmp)}`);
      b.rollbackTx.push(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${ident(tmp)}`);
      b.completeTx.push(`ALTER TABLE ${table} RENAME CONSTRAINT ${ident(tmp)} TO ${ident(k.name)}`);
    } else if (k.type === 'unique') {
      const nnd = /NULLS NOT DISTINCT/.test(def) ? ' NULLS NOT DISTINCT' : '';
      concurrentIndex(b, tmp, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(tmp)} ON ${table} (${moved(k.columns).map(ident).join(', ')})${nnd}`, true);
      const deferrable = / DEFERRABLE/.test(def) ? ` DEFERRABLE${/INITIALLY DEFERRED/.test(def) ? ' INITIALLY DEFERRED' : ''}` : '';
      b.completeTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(k.name)} UNIQUE USING INDEX ${ident(tmp)}${deferrable}`);
    }
  }
  for (const x of (t.indexes ?? []).filter((i) => covers(i.columns))) {
    const m = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ (.*)$/s.exec(x.definition);
    if (!m) continue;
    const tmp = fitIdent(`_sym_${b.hash}_${x.name}`);
    concurrentIndex(b, tmp, `CREATE ${m[1] ?? ''}INDEX CONCURRENTLY IF NOT EXISTS ${ident(tmp)} ON ${table} ${rename(m[2])}`, true);
    b.completeTx.push(`ALTER INDEX ${qualified(b.base, tmp)} RENAME TO ${ident(x.name)}`);
  }
  t.constraints = (t.constraints ?? []).filter((k) => k.name !== except).map((k) => ({ ...k, columns: moved(k.columns) }));
  t.indexes = (t.indexes ?? []).map((x) => ({ ...x, columns: moved(x.columns) }));
}

/** Copies of several columns of one table (see shadow), then their constraints and indexes carried over. */
export function shadowAll(b: PlanBuilder, t: TableLayout, cols: { c: ColumnLayout; spec: ShadowSpec }[], except: string | null, where: string): string[] {
  const copies = new Map<string, string>();
  const out = cols.map(({ c, spec }) => {
    const from = c.physical;
    const copy = shadow(b, t, c, spec, where);
    copies.set(from, copy);
    return copy;
  });
  carryConstraints(b, t, copies, except);
  return out;
}

/**
 * Give the new version its own copy of a column (`_sym_new_<column>`): added at
 * start, kept in sync both ways by the table's trigger (`up` from old writes,
 * `down` from new writes), backfilled; complete drops the old column and renames
 * the copy into place; rollback renames the copy aside. Returns the copy's name.
 */
function shadow(b: PlanBuilder, t: TableLayout, c: ColumnLayout, spec: ShadowSpec, where: string): string {
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
  Object.assign(c, { name: finalName, physical: copy, type, nullable: !notNull, default: dflt });
  return copy;
}
