import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import type { ConstraintLayout, TableLayout } from '../layout.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { ForeignKeyAction, MatchType, columnReferences, deferrableClause, referencesClause, type Check, type References } from './column.js';
import { Ident, constraintName, renameInExpression } from './common.js';

/** A table-level foreign key (pgroll's TableForeignKeyReference). */
export const TableReferencesSpec = z.strictObject({
  name: Ident.optional(),
  table: Ident,
  columns: z.array(Ident).min(1),
  on_delete: ForeignKeyAction.optional(),
  on_update: ForeignKeyAction.optional(),
  on_delete_set_columns: z.array(Ident).optional(),
  match_type: MatchType.optional(),
});

export const IndexParametersSpec = z.strictObject({
  tablespace: z.string().optional(),
  storage_parameters: z.string().optional(),
  include_columns: z.array(Ident).optional(),
});

export type IndexParameters = z.infer<typeof IndexParametersSpec>;

/** `INCLUDE (…) [NULLS NOT DISTINCT] WITH (…) TABLESPACE …`, the tail of a unique or primary key index. */
export function indexTail(p: IndexParameters | undefined, physical: (name: string) => string, nullsNotDistinct = false, inConstraint = false): string {
  let out = '';
  if (p?.include_columns?.length) out += ` INCLUDE (${p.include_columns.map((c) => ident(physical(c))).join(', ')})`;
  if (nullsNotDistinct) out += ' NULLS NOT DISTINCT';
  if (p?.storage_parameters) out += ` WITH (${p.storage_parameters})`;
  if (p?.tablespace) out += `${inConstraint ? ' USING INDEX' : ''} TABLESPACE ${ident(p.tablespace)}`;
  return out;
}

/** Constraints added NOT VALID at start, validated at complete, dropped by rollback. */
export function addConstraints(
  b: PlanBuilder,
  t: TableLayout,
  physical: string,
  finalName: string,
  spec: { check?: Check; references?: References; notNull: boolean },
  where: string,
): void {
  const table = qualified(b.base, t.physical);
  const added: string[] = [];
  if (spec.notNull) {
    const nn = constraintName(b, 'nn', finalName);
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(nn)} CHECK (${ident(physical)} IS NOT NULL) NOT VALID`);
    added.push(nn);
    b.completeTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(finalName)} SET NOT NULL`, `ALTER TABLE ${table} DROP CONSTRAINT ${ident(nn)}`);
  }
  if (spec.check) {
    const expr = physical === finalName ? spec.check.constraint : renameInExpression(spec.check.constraint, finalName, ident(physical));
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(spec.check.name)} CHECK (${expr})${spec.check.no_inherit ? ' NO INHERIT' : ''} NOT VALID`);
    added.push(spec.check.name);
    addToLayout(t, { name: spec.check.name, type: 'check', columns: [physical] });
  }
  if (spec.references) {
    const r = spec.references;
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(r.name)} FOREIGN KEY (${ident(physical)}) ${referencesClause(b, columnReferences(r), where)}${deferrableClause(r)} NOT VALID`);
    added.push(r.name);
    addToLayout(t, { name: r.name, type: 'foreign_key', columns: [physical] });
  }
  for (const name of added) {
    b.validate.push(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${ident(name)}`);
    b.rollbackTx.push(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${ident(name)}`);
  }
}

export function addToLayout(t: TableLayout, k: ConstraintLayout): void {
  t.constraints = [...(t.constraints ?? []).filter((x) => x.name !== k.name), k];
}

/** A constraint's name must be free on its table (Postgres names constraints per table). */
export function assertFreeName(t: TableLayout, name: string, where: string): void {
  if ((t.constraints ?? []).some((k) => k.name === name)) {
    throw new MigrationError(`${where}: table ${t.name} already has a constraint ${name}`, 'pick another name, or drop the constraint in an earlier migration');
  }
}
