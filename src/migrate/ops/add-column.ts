import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findColumn } from '../layout.js';
import { fitIdent, ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { ColumnSpec } from './column.js';
import { Ident, Sql, backfill, comment, concurrentIndex, fragment, moveAside, tableOf, type OpContext } from './common.js';
import { addConstraints } from './constraints.js';

export const AddColumnSpec = z.strictObject({ table: Ident, column: ColumnSpec, up: Sql.optional() }).superRefine((op, ctx) => {
  if (op.column.pk) ctx.addIssue({ code: 'custom', path: ['column', 'pk'], message: 'adding a primary key column to an existing table is not supported: create a new table, or use create_constraint with type primary_key' });
  if (op.column.generated) {
    ctx.addIssue({ code: 'custom', path: ['column', 'generated'], message: 'adding a generated column to an existing table rewrites every row under an exclusive lock, so it is refused: add a plain column with `up` instead' });
  }
});

export type AddColumn = z.infer<typeof AddColumnSpec>;

/**
 * A column added with a volatile default and no `up` (`default: gen_random_uuid()`):
 * `ALTER TABLE … ADD COLUMN … DEFAULT` would rewrite the table under an exclusive
 * lock, so the default becomes the backfill's `up` and is set after the column exists.
 */
export function withVolatileDefaultAsUp(op: AddColumn, volatile: boolean): AddColumn {
  return volatile && !op.up && op.column.default != null ? { ...op, up: op.column.default } : op;
}

/** The default the engine asks Postgres about (is it volatile?), or null when there is nothing to ask. */
export function defaultToProbe(op: AddColumn): string | null {
  const d = op.column.default;
  return op.up || d == null || /^\s*null\s*$/i.test(d) ? null : d;
}

export function planAddColumn(b: PlanBuilder, op: AddColumn, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const col = op.column;
  if (findColumn(t, col.name) || b.before.tables.some((x) => x.physical === t.physical && x.columns.some((c) => c.physical === col.name))) {
    throw new MigrationError(`${where}: table ${op.table} already has a column ${col.name}`);
  }
  const notNull = col.nullable !== true;
  if (notNull && !op.up && (col.default === undefined || col.default === null)) {
    throw new MigrationError(`${where}: column ${op.table}.${col.name} is NOT NULL (nullable defaults to false) but has neither \`up\` nor \`default\``, 'add `up: <expression>` to fill existing rows, a `default`, or `nullable: true`');
  }
  const table = qualified(b.base, t.physical);
  const withDefault = !op.up && col.default != null;
  b.startTx.push(`ALTER TABLE ${table} ADD COLUMN ${ident(col.name)} ${col.type}${withDefault ? ` DEFAULT ${col.default}` : ''}`);
  if (op.up && col.default != null) b.startTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(col.name)} SET DEFAULT ${col.default}`);
  addConstraints(b, t, col.name, col.name, { check: col.check, references: col.references, notNull }, where);
  if (col.unique) {
    const idx = fitIdent(`${t.physical}_${col.name}_key`);
    concurrentIndex(b, idx, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(idx)} ON ${table} (${ident(col.name)})`);
  }
  if (col.comment) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(col.name)} IS ${comment(col.comment)}`);
  if (op.up) {
    const f = fragment(b, t);
    f.oldSide.push(`IF TG_OP = 'INSERT' OR NEW.${ident(col.name)} IS NULL THEN NEW.${ident(col.name)} := (${op.up}); END IF;`);
    f.fills.push({ column: col.name, value: op.up, onlyWhenNull: true });
    backfill(b, t);
  }
  b.touched.add(`${t.physical}.${col.name}`);
  moveAside(b, t, col.name);
  t.columns.push({ name: col.name, physical: col.name, type: col.type, nullable: !notNull, default: col.default ?? null });
}
