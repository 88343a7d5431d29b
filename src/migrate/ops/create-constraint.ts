import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { deferrableClause, referencesClause } from './column.js';
import { ColumnSql, Ident, columnOf, concurrentIndex, physicalExpression, physicalOf, tableOf, type OpContext } from './common.js';
import { IndexParametersSpec, TableReferencesSpec, addToLayout, assertFreeName, indexTail } from './constraints.js';
import { assertShadowable, shadowAll } from './shadow.js';
import type { TableLayout } from '../layout.js';

export const CreateConstraintSpec = z
  .strictObject({
    table: Ident,
    name: Ident,
    type: z.enum(['unique', 'check', 'foreign_key', 'primary_key']),
    columns: z.array(Ident).min(1),
    check: z.string().optional(),
    no_inherit: z.boolean().optional(),
    nulls_not_distinct: z.boolean().optional(),
    deferrable: z.boolean().optional(),
    initially_deferred: z.boolean().optional(),
    references: TableReferencesSpec.optional(),
    index_parameters: IndexParametersSpec.optional(),
    up: ColumnSql.optional(),
    down: ColumnSql.optional(),
  })
  .superRefine((op, ctx) => {
    if (op.type === 'check' && !op.check) ctx.addIssue({ code: 'custom', path: ['check'], message: 'a check constraint needs `check` (its SQL expression)' });
    if (op.type === 'foreign_key' && !op.references) ctx.addIssue({ code: 'custom', path: ['references'], message: 'a foreign_key constraint needs `references: {table, columns}`' });
    if (op.no_inherit && op.type !== 'check') ctx.addIssue({ code: 'custom', path: ['no_inherit'], message: 'only a check constraint takes no_inherit' });
    if (op.nulls_not_distinct && op.type !== 'unique') ctx.addIssue({ code: 'custom', path: ['nulls_not_distinct'], message: 'only a unique constraint takes nulls_not_distinct' });
    if (op.index_parameters && (op.type === 'check' || op.type === 'foreign_key')) ctx.addIssue({ code: 'custom', path: ['index_parameters'], message: `a ${op.type} constraint has no index, so no index_parameters` });
    for (const side of ['up', 'down'] as const) {
      for (const col of Object.keys(op[side] ?? {})) {
        if (!op.columns.includes(col)) ctx.addIssue({ code: 'custom', path: [side, col], message: `${col} is not one of the constraint's columns (${op.columns.join(', ')})` });
      }
    }
  });

export type CreateConstraint = z.infer<typeof CreateConstraintSpec>;

function directBody(b: PlanBuilder, t: TableLayout, op: CreateConstraint, where: string): string {
  const col = (n: string) => physicalOf(t, n, where);
  const list = op.columns.map((c) => ident(col(c))).join(', ');
  const tail = indexTail(op.index_parameters, col, false, true);
  if (op.type === 'check') return `CHECK (${physicalExpression(op.check as string, t)})${op.no_inherit ? ' NO INHERIT' : ''}`;
  if (op.type === 'foreign_key') return `FOREIGN KEY (${list}) ${referencesClause(b, op.references!, where, col)}${deferrableClause(op)}`;
  if (op.type === 'unique') return `UNIQUE${op.nulls_not_distinct ? ' NULLS NOT DISTINCT' : ''} (${list})${tail}${deferrableClause(op)}`;
  return `PRIMARY KEY (${list})${tail}${deferrableClause(op)}`;
}

/**
 * As pgroll does: the new version gets its own copy of each covered column with
 * the constraint on the copies, so the old version keeps writing what it wrote
 * before. `up` maps old writes into the copies (make them satisfy the
 * constraint), `down` maps new writes back. Checks and foreign keys are added
 * NOT VALID and validated at complete; unique and primary keys are built
 * concurrently and attached to their index at complete.
 */
export function planCreateConstraint(b: PlanBuilder, op: CreateConstraint, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  assertFreeName(t, op.name, where);
  if (op.type === 'primary_key' && t.primaryKey.length) {
    throw new MigrationError(`${where}: table ${op.table} already has a primary key (${t.primaryKey.join(', ')})`, 'a table has one primary key; drop it in an earlier migration (sql) or create a new table');
  }
  const cols = op.columns.map((n) => columnOf(b, t, n, where));
  const table = qualified(b.base, t.physical);
  if (!b.before.tables.some((x) => x.physical === t.physical)) {
    // A table created by this migration has no old version to keep working: the constraint goes on directly.
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(op.name)} ${directBody(b, t, op, where)}`);
    if (op.type === 'primary_key') t.primaryKey = cols.map((c) => c.physical);
    addToLayout(t, { name: op.name, type: op.type, columns: cols.map((c) => c.physical) });
    return;
  }
  assertShadowable(b, t, cols, null, where);
  const copies = shadowAll(b, t, cols.map((c) => ({ c, spec: { up: op.up?.[c.name], down: op.down?.[c.name], notNull: op.type === 'primary_key' ? true : undefined } })), null, where);
  const col = (n: string) => physicalOf(t, n, where);
  const list = copies.map((c) => ident(c)).join(', ');
  const name = ident(op.name);
  if (op.type === 'check' || op.type === 'foreign_key') {
    const body = op.type === 'check'
      ? `CHECK (${physicalExpression(op.check as string, t)})${op.no_inherit ? ' NO INHERIT' : ''}`
      : `FOREIGN KEY (${list}) ${referencesClause(b, op.references!, where, col)}${deferrableClause(op)}`;
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${body} NOT VALID`);
    b.validate.push(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`);
    b.rollbackTx.push(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${name}`);
  } else {
    const tail = indexTail(op.index_parameters, col, op.nulls_not_distinct === true);
    concurrentIndex(b, op.name, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${table} (${list})${tail}`, true);
    b.completeTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${op.type === 'unique' ? 'UNIQUE' : 'PRIMARY KEY'} USING INDEX ${name}${deferrableClause(op)}`);
    if (op.type === 'primary_key') t.primaryKey = copies;
  }
  addToLayout(t, { name: op.name, type: op.type, columns: copies });
}
