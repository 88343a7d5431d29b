import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import type { ColumnLayout } from '../layout.js';
import type { PlanBuilder } from '../plan-types.js';
import { ColumnSql, Ident, columnOf, constraintOf, tableOf, type OpContext } from './common.js';
import { assertShadowable, shadowAll } from './shadow.js';

export const DropMultiColumnConstraintSpec = z.strictObject({ table: Ident, name: Ident, up: ColumnSql.optional(), down: ColumnSql });

export type DropMultiColumnConstraint = z.infer<typeof DropMultiColumnConstraintSpec>;

/**
 * As pgroll does: the new version gets copies of the covered columns without the
 * constraint; the old version keeps it. `down` gives each old column a value that
 * still meets the constraint when the new version writes; `up` fills the copies
 * from old writes. Complete drops the old columns, and the constraint with them.
 */
export function planDropMultiColumnConstraint(b: PlanBuilder, op: DropMultiColumnConstraint, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const k = constraintOf(t, op.name, where);
  if (k.type === 'primary_key' || k.type === 'exclude') {
    throw new MigrationError(`${where}: ${op.name} is a ${k.type.replace('_', ' ')} constraint; only check, foreign key and unique constraints can be dropped`, 'use a sql migration for it');
  }
  const byPhysical = (p: string): ColumnLayout => {
    const c = t.columns.find((x) => x.physical === p);
    if (!c) throw new MigrationError(`${where}: constraint ${op.name} covers column ${p}, which the new version no longer has`);
    return c;
  };
  const covered = k.columns.map(byPhysical);
  const names = covered.map((c) => c.name);
  for (const side of ['up', 'down'] as const) {
    for (const col of Object.keys(op[side] ?? {})) {
      if (!names.includes(col)) throw new MigrationError(`${where}: ${side}.${col}: ${col} is not covered by constraint ${op.name} (it covers ${names.join(', ')})`, `give \`${side}\` only for ${names.join(', ')}`);
    }
  }
  const cols = covered.map((c) => columnOf(b, t, c.name, where));
  assertShadowable(b, t, cols, k.name, where);
  shadowAll(b, t, cols.map((c) => ({ c, spec: { up: op.up?.[c.name], down: op.down[c.name] } })), k.name, where);
}
