import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findColumn } from '../layout.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, columnOf, tableOf, type OpContext } from './common.js';

/**
 * pgroll's `{table, from, to}`; Symphony's earlier spelling `{table, column, name}`
 * is still read, and both come out as `{table, from, to}`.
 */
export const RenameColumnSpec = z
  .strictObject({ table: Ident, from: Ident.optional(), to: Ident.optional(), column: Ident.optional(), name: Ident.optional() })
  .superRefine((op, ctx) => {
    const pgroll = op.from !== undefined || op.to !== undefined;
    const legacy = op.column !== undefined || op.name !== undefined;
    if (pgroll && legacy) ctx.addIssue({ code: 'custom', message: 'give `from` and `to` (or the older `column` and `name`), not both spellings' });
    else if (pgroll ? !(op.from && op.to) : !(op.column && op.name)) ctx.addIssue({ code: 'custom', message: 'rename_column needs `from` (the column) and `to` (its new name)' });
  })
  .transform((op) => ({ table: op.table, from: (op.from ?? op.column) as string, to: (op.to ?? op.name) as string }));

export type RenameColumn = z.output<typeof RenameColumnSpec>;

/** The new version's view shows the new name at start; the column is renamed at complete. */
export function planRenameColumn(b: PlanBuilder, op: RenameColumn, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.from, where);
  if (findColumn(t, op.to)) throw new MigrationError(`${where}: table ${op.table} already has a column ${op.to}`);
  b.completeTx.push(`ALTER TABLE ${qualified(b.base, t.physical)} RENAME COLUMN ${ident(c.physical)} TO ${ident(op.to)}`);
  c.name = op.to;
}
