import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, Sql, constraintOf, tableOf, type OpContext } from './common.js';
import { planDropMultiColumnConstraint } from './drop-multicolumn-constraint.js';

/** pgroll's single-column form (deprecated there in favour of drop_multicolumn_constraint); `column` is from its early releases. */
export const DropConstraintSpec = z.strictObject({ table: Ident, name: Ident, column: Ident.optional(), up: Sql.optional(), down: Sql });

export type DropConstraint = z.infer<typeof DropConstraintSpec>;

export function planDropConstraint(b: PlanBuilder, op: DropConstraint, ctx: OpContext): void {
  const t = tableOf(b, op.table, ctx.where);
  const k = constraintOf(t, op.name, ctx.where);
  const cols = k.columns.map((p) => t.columns.find((c) => c.physical === p)?.name ?? p);
  if (cols.length !== 1) throw new MigrationError(`${ctx.where}: constraint ${op.name} covers ${cols.length} columns (${cols.join(', ')})`, 'use drop_multicolumn_constraint with `up`/`down` per column');
  if (op.column && op.column !== cols[0]) throw new MigrationError(`${ctx.where}: constraint ${op.name} is on column ${cols[0]}, not ${op.column}`);
  planDropMultiColumnConstraint(b, { table: op.table, name: op.name, up: op.up ? { [cols[0]]: op.up } : undefined, down: { [cols[0]]: op.down } }, ctx);
}
