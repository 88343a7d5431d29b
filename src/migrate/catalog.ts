import type pg from 'pg';
import type { Layout, TableLayout } from './layout.js';
import { INTERNAL_PREFIX } from './names.js';

interface ColumnRow {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
  default: string | null;
  pk: boolean;
}

/** Read the physical tables of `schema` as a layout (internal `_sym_` tables and columns left out). */
export async function readLayout(client: pg.ClientBase, schema: string): Promise<Layout> {
  const res = await client.query<ColumnRow>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default,
            COALESCE(a.attnum = ANY (i.indkey), false) AS pk
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        AND left(c.relname, length($2)) <> $2 AND left(a.attname, length($2)) <> $2
      ORDER BY c.relname, a.attnum`,
    [schema, INTERNAL_PREFIX],
  );
  const tables = new Map<string, TableLayout>();
  for (const r of res.rows) {
    let t = tables.get(r.table);
    if (!t) tables.set(r.table, (t = { name: r.table, physical: r.table, columns: [], primaryKey: [] }));
    t.columns.push({ name: r.column, physical: r.column, type: r.type, nullable: r.nullable, default: r.default });
    if (r.pk) t.primaryKey.push(r.column);
  }
  return { schema, tables: [...tables.values()] };
}

/**
 * Names in use in `schema`, as the planner's `asideTaken` keys: `t:<relation>`
 * for every relation, `c:<table>.<column>` for every column.
 */
export async function takenNames(client: pg.ClientBase, schema: string): Promise<Set<string>> {
  const res = await client.query<{ rel: string; col: string | null }>(
    `SELECT c.relname AS rel, a.attname AS col
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
      WHERE n.nspname = $1`,
    [schema],
  );
  const out = new Set<string>();
  for (const r of res.rows) {
    out.add(`t:${r.rel}`);
    if (r.col !== null) out.add(`c:${r.rel}.${r.col}`);
  }
  return out;
}
