import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findTable } from '../layout.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, tableOf, type OpContext } from './common.js';

export const RenameTableSpec = z.strictObject({ from: Ident, to: Ident });

export type RenameTable = z.infer<typeof RenameTableSpec>;

/** The new version's view carries the new name at start; the table is renamed at complete. */
export function planRenameTable(b: PlanBuilder, op: RenameTable, { where }: OpContext): void {
  const t = tableOf(b, op.from, where);
  if (findTable(b.after, op.to)) throw new MigrationError(`${where}: table ${op.to} already exists`);
  b.completeLast.push(`ALTER TABLE ${qualified(b.base, t.physical)} RENAME TO ${ident(op.to)}`);
  t.name = op.to;
}
