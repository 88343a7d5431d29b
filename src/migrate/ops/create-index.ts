import { z } from 'zod';
import { ident, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { Ident, Sql, concurrentIndex, physicalExpression, physicalOf, tableOf, type OpContext } from './common.js';

const OpclassName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'an operator class name, optionally schema-qualified');

/** How one column takes part in an index (pgroll's IndexField, without `column` when it is the map's key). */
const IndexFieldSettings = {
  collate: z.string().min(1).optional(),
  sort: z.enum(['ASC', 'DESC']).optional(),
  nulls: z.enum(['FIRST', 'LAST']).optional(),
  opclass: z.strictObject({ name: OpclassName, params: z.array(z.string().min(1)).optional() }).optional(),
};
const IndexFieldOptions = z.strictObject(IndexFieldSettings);
const IndexField = z.strictObject({ column: Ident, ...IndexFieldSettings });

export type IndexColumn = z.infer<typeof IndexField>;

/**
 * `columns` as pgroll writes it: a list of names, a list of `{column, sort, …}`,
 * or a map column → `{sort, nulls, opclass, collate}` (settings may be empty).
 * All come out as a list of `{column, …}` in the file's order.
 */
const IndexColumns = z.union([
  z.array(z.union([Ident, IndexField])).min(1),
  z.record(Ident, IndexFieldOptions.nullable()).refine((m) => Object.keys(m).length > 0, 'name at least one column'),
]).transform((cols): IndexColumn[] =>
  Array.isArray(cols)
    ? cols.map((c) => (typeof c === 'string' ? { column: c } : c))
    : Object.entries(cols).map(([column, s]) => ({ column, ...(s ?? {}) })),
);

export const CreateIndexSpec = z.strictObject({
  name: Ident,
  table: Ident,
  columns: IndexColumns,
  unique: z.boolean().optional(),
  method: z.enum(['btree', 'hash', 'gist', 'spgist', 'gin', 'brin']).optional(),
  predicate: Sql.optional(),
  storage_parameters: z.string().optional(),
});

export type CreateIndex = z.output<typeof CreateIndexSpec>;

function element(physical: string, c: IndexColumn): string {
  let out = ident(physical);
  if (c.collate) out += ` COLLATE ${ident(c.collate)}`;
  if (c.opclass) out += ` ${c.opclass.name}${c.opclass.params?.length ? ` (${c.opclass.params.join(', ')})` : ''}`;
  if (c.sort) out += ` ${c.sort}`;
  if (c.nulls) out += ` NULLS ${c.nulls}`;
  return out;
}

/** Built concurrently after start's transaction (never blocks writers); rollback drops it concurrently. */
export function planCreateIndex(b: PlanBuilder, op: CreateIndex, { where }: OpContext): void {
  const t = tableOf(b, op.table, where);
  const cols = op.columns.map((c) => element(physicalOf(t, c.column, where, 'column to index'), c));
  const using = op.method ? ` USING ${op.method}` : '';
  const withParams = op.storage_parameters ? ` WITH (${op.storage_parameters})` : '';
  const predicate = op.predicate ? ` WHERE ${physicalExpression(op.predicate, t)}` : '';
  concurrentIndex(b, op.name, `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${ident(op.name)} ON ${qualified(b.base, t.physical)}${using} (${cols.join(', ')})${withParams}${predicate}`);
}
