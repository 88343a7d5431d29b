import { z } from 'zod';
import { qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, tableOf, type OpContext } from './common.js';

export const DropTableSpec = z.strictObject({ name: Ident });

export type DropTable = z.infer<typeof DropTableSpec>;

/** Hidden from the new version at start, dropped at complete. */
export function planDropTable(b: PlanBuilder, op: DropTable, { where }: OpContext): void {
  const t = tableOf(b, op.name, where);
  b.completeLast.push(`DROP TABLE IF EXISTS ${qualified(b.base, t.physical)}`);
  b.after.tables = b.after.tables.filter((x) => x !== t);
}
