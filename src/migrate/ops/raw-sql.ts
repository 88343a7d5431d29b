import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import type { PlanBuilder } from '../plan-types.js';
import { Sql, type OpContext } from './common.js';

export const RawSqlSpec = z.strictObject({ up: Sql, down: Sql.optional(), onComplete: z.boolean().optional() }).superRefine((op, ctx) => {
  if (op.onComplete && op.down) ctx.addIssue({ code: 'custom', path: ['down'], message: '`down` cannot be combined with `onComplete: true` (nothing to undo after complete)' });
});

export type RawSql = z.infer<typeof RawSqlSpec>;

/** `up` runs in start's transaction (alone in its file) or at complete with `onComplete`; rollback runs `down`. */
export function planSql(b: PlanBuilder, op: RawSql, { where, alone }: OpContext): void {
  if (op.onComplete) {
    b.completeTx.push(op.up);
    return;
  }
  if (!alone) throw new MigrationError(`${where}: a sql operation must be alone in its migration (or set \`onComplete: true\`)`, 'move it to its own migration file');
  b.startTx.push(op.up);
  b.rereadAfterStart = true;
  if (op.down) {
    b.rollbackTx.push(op.down);
    b.abortTx.push(op.down);
  }
}
