import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findColumn } from '../layout.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { CheckSpec, ReferencesSpec } from './column.js';
import { Ident, Sql, columnOf, comment, concurrentIndex, tableOf, type OpContext } from './common.js';
import { addToLayout } from './constraints.js';
import { assertShadowable, shadowAll } from './shadow.js';

export const AlterColumnSpec = z.strictObject({
  table: Ident,
  column: Ident,
  name: Ident.optional(),
  type: Sql.optional(),
  nullable: z.boolean().optional(),
  default: z.string().nullable().optional(),
  check: CheckSpec.optional(),
  unique: z.strictObject({ name: Ident }).optional(),
  references: ReferencesSpec.optional(),
  comment: z.string().nullable().optional(),
  up: Sql.optional(),
  down: Sql.optional(),
});

export type AlterColumn = z.infer<typeof AlterColumnSpec>;

/**
 * A rename, default or comment alone changes no data: the view shows it at start,
 * complete applies it. A type, nullability, check, unique or foreign key change
 * gives the new version a shadow copy of the column (see shadow.ts).
 */
export function planAlterColumn(b: PlanBuilder, op: AlterColumn, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.column, where);
  const finalName = op.name ?? c.name;
  if (op.name && op.name !== c.name && findColumn(t, op.name)) throw new MigrationError(`${where}: table ${op.table} already has a column ${op.name}`);
  const table = qualified(b.base, t.physical);
  const shadowed = op.type !== undefined || op.nullable !== undefined || op.check || op.unique || op.references;
  if (!shadowed) {
    if (op.name) b.completeTx.push(`ALTER TABLE ${table} RENAME COLUMN ${ident(c.physical)} TO ${ident(op.name)}`);
    if (op.default !== undefined) {
      b.viewDefaults.push({ table: t.physical, column: finalName, default: op.default });
      b.completeTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(finalName)} ${op.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${op.default}`}`);
      c.default = op.default;
    }
    if (op.comment !== undefined) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(finalName)} IS ${comment(op.comment)}`);
    c.name = finalName;
    return;
  }
  if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: changing the type or constraints of primary key column ${op.table}.${op.column} is not supported`);
  assertShadowable(b, t, [c], null, where);
  const [copy] = shadowAll(b, t, [{ c, spec: {
    up: op.up, down: op.down, type: op.type, default: op.default, name: finalName,
    notNull: op.nullable !== undefined ? !op.nullable : undefined, check: op.check, references: op.references,
  } }], null, where);
  if (op.unique) {
    concurrentIndex(b, op.unique.name, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(op.unique.name)} ON ${table} (${ident(copy)})`, true);
    b.completeTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(op.unique.name)} UNIQUE USING INDEX ${ident(op.unique.name)}`);
    addToLayout(t, { name: op.unique.name, type: 'unique', columns: [copy] });
  }
  if (op.comment) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(finalName)} IS ${comment(op.comment)}`);
}
