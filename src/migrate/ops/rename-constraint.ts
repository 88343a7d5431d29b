import { z } from 'zod';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, constraintOf, tableOf, type OpContext } from './common.js';
import { assertFreeName } from './constraints.js';

export const RenameConstraintSpec = z.strictObject({ table: Ident, from: Ident, to: Ident });

export type RenameConstraint = z.infer<typeof RenameConstraintSpec>;

/** As in pgroll: the constraint keeps its old name while both versions run and is renamed at complete. */
export function planRenameConstraint(b: PlanBuilder, op: RenameConstraint, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const k = constraintOf(t, op.from, where);
  assertFreeName(t, op.to, where);
  b.completeTx.push(`ALTER TABLE ${qualified(b.base, t.physical)} RENAME CONSTRAINT ${ident(op.from)} TO ${ident(op.to)}`);
  k.name = op.to;
}
