import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, Sql, physicalOf, tableOf } from './common.js';

export const ForeignKeyAction = z.enum(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT']);
export const MatchType = z.enum(['SIMPLE', 'FULL', 'PARTIAL']);

export const CheckSpec = z.strictObject({ name: Ident, constraint: Sql, no_inherit: z.boolean().optional() });

/** A column's foreign key (pgroll's ForeignKeyReference). */
export const ReferencesSpec = z.strictObject({
  name: Ident,
  table: Ident,
  column: Ident,
  on_delete: ForeignKeyAction.optional(),
  on_update: ForeignKeyAction.optional(),
  match_type: MatchType.optional(),
  deferrable: z.boolean().optional(),
  initially_deferred: z.boolean().optional(),
});

export const GeneratedSpec = z
  .strictObject({
    expression: z.string().optional(),
    identity: z.strictObject({ user_specified_values: z.enum(['ALWAYS', 'BY DEFAULT']).optional(), sequence_options: z.string().optional() }).optional(),
  })
  .refine((g) => !(g.expression && g.identity), 'a generated column is either `expression` (stored) or `identity`, not both')
  .refine((g) => Boolean(g.expression) || g.identity !== undefined, 'give `expression` or `identity`');

/** A column as in pgroll: NOT NULL unless `nullable: true`. */
export const ColumnSpec = z
  .strictObject({
    name: Ident,
    type: Sql,
    nullable: z.boolean().optional(),
    unique: z.boolean().optional(),
    pk: z.boolean().optional(),
    default: z.string().nullable().optional(),
    check: CheckSpec.optional(),
    references: ReferencesSpec.optional(),
    generated: GeneratedSpec.optional(),
    comment: z.string().nullable().optional(),
  })
  .refine((c) => !(c.generated && c.default != null), { message: 'a generated column cannot also have a `default`', path: ['generated'] });

export type Column = z.infer<typeof ColumnSpec>;
export type References = z.infer<typeof ReferencesSpec>;
export type Check = z.infer<typeof CheckSpec>;

export interface ForeignKey {
  table: string;
  columns: string[];
  on_delete?: z.infer<typeof ForeignKeyAction>;
  on_update?: z.infer<typeof ForeignKeyAction>;
  on_delete_set_columns?: string[];
  match_type?: z.infer<typeof MatchType>;
}

export function deferrableClause(k: { deferrable?: boolean; initially_deferred?: boolean }): string {
  if (!k.deferrable && !k.initially_deferred) return '';
  return ` DEFERRABLE${k.initially_deferred ? ' INITIALLY DEFERRED' : ''}`;
}

/** `REFERENCES <table> (<columns>) [MATCH …] [ON DELETE …] [ON UPDATE …]` over the new version's physical names. */
export function referencesClause(b: PlanBuilder, r: ForeignKey, where: string, local: (name: string) => string = (n) => n): string {
  const target = tableOf(b, r.table, where);
  const cols = r.columns.map((c) => ident(physicalOf(target, c, where, 'referenced column')));
  let out = `REFERENCES ${qualified(b.base, target.physical)} (${cols.join(', ')})`;
  if (r.match_type && r.match_type !== 'SIMPLE') {
    if (r.match_type === 'PARTIAL') throw new MigrationError(`${where}: MATCH PARTIAL is not implemented by Postgres`, 'use match_type SIMPLE or FULL');
    out += ` MATCH ${r.match_type}`;
  }
  if (r.on_delete) {
    const set = r.on_delete_set_columns?.length && (r.on_delete === 'SET NULL' || r.on_delete === 'SET DEFAULT') ? ` (${r.on_delete_set_columns.map((c) => ident(local(c))).join(', ')})` : '';
    out += ` ON DELETE ${r.on_delete}${set}`;
  }
  if (r.on_update) out += ` ON UPDATE ${r.on_update}`;
  return out;
}

export function columnReferences(r: References): ForeignKey {
  return { table: r.table, columns: [r.column], on_delete: r.on_delete, on_update: r.on_update, match_type: r.match_type };
}

/** A column of `CREATE TABLE`; the primary key is a table constraint (several `pk: true` make one composite key). */
export function columnDefinition(b: PlanBuilder, c: Column, where: string): string {
  const parts = [ident(c.name), c.type];
  if (c.nullable !== true && !c.pk) parts.push('NOT NULL');
  if (c.default != null) parts.push(`DEFAULT ${c.default}`);
  if (c.generated?.expression) parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) STORED`);
  else if (c.generated?.identity) {
    const id = c.generated.identity;
    parts.push(`GENERATED ${id.user_specified_values ?? 'ALWAYS'} AS IDENTITY${id.sequence_options ? ` (${id.sequence_options})` : ''}`);
  }
  if (c.unique) parts.push('UNIQUE');
  if (c.check) parts.push(`CONSTRAINT ${ident(c.check.name)} CHECK (${c.check.constraint})${c.check.no_inherit ? ' NO INHERIT' : ''}`);
  if (c.references) parts.push(`CONSTRAINT ${ident(c.references.name)} ${referencesClause(b, columnReferences(c.references), where)}${deferrableClause(c.references)}`);
  return parts.join(' ');
}
