import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, Sql, columnOf, fragment, tableOf, type OpContext } from './common.js';

export const DropColumnSpec = z.strictObject({ table: Ident, column: Ident, down: Sql.optional() });

export type DropColumn = z.infer<typeof DropColumnSpec>;

/** Hidden from the new version at start; `down` fills it for rows the new version inserts; dropped at complete. */
export function planDropColumn(b: PlanBuilder, op: DropColumn, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.column, where);
  if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: ${op.table}.${op.column} is part of the primary key and cannot be dropped`);
  if (!c.nullable && c.default === null && !op.down) {
    throw new MigrationError(`${where}: ${op.table}.${op.column} is NOT NULL without a default, so rows inserted by the new version need \`down\``, 'add `down: <expression>` giving the old column its value');
  }
  if (op.down) fragment(b, t).newSide.push(`IF TG_OP = 'INSERT' OR NEW.${ident(c.physical)} IS NULL THEN NEW.${ident(c.physical)} := (${op.down}); END IF;`);
  b.completeTx.push(`ALTER TABLE ${qualified(b.base, t.physical)} DROP COLUMN IF EXISTS ${ident(c.physical)}`);
  t.columns = t.columns.filter((x) => x !== c);
  t.constraints = (t.constraints ?? []).filter((k) => !k.columns.includes(c.physical));
}
