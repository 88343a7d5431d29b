import type pg from 'pg';
import type { ConstraintLayout, Layout, ReplicaIdentity, TableLayout } from './layout.js';
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
  await readConstraints(client, schema, tables);
  return { schema, tables: [...tables.values()] };
}

const CONSTRAINT_TYPES: Record<string, ConstraintLayout['type']> = { c: 'check', f: 'foreign_key', u: 'unique', p: 'primary_key', x: 'exclude' };
const IDENTITIES: Record<string, ReplicaIdentity['type']> = { d: 'default', f: 'full', n: 'nothing', i: 'index' };

/** Named constraints (internal `_sym_` ones left out) and the replica identity of each table. */
async function readConstraints(client: pg.ClientBase, schema: string, tables: Map<string, TableLayout>): Promise<void> {
  const res = await client.query<{ table: string; name: string; type: string; columns: string[]; definition: string }>(
    `SELECT c.relname AS table, k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS definition,
            array_to_json(ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o)) AS columns
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND k.contype IN ('c', 'f', 'u', 'p', 'x') AND left(k.conname, length($2)) <> $2
      ORDER BY c.relname, k.conname`,
    [schema, INTERNAL_PREFIX],
  );
  for (const t of tables.values()) Object.assign(t, { constraints: [], indexes: [] });
  for (const r of res.rows) tables.get(r.table)?.constraints?.push({ name: r.name, type: CONSTRAINT_TYPES[r.type], columns: r.columns, definition: r.definition });
  const idx = await client.query<{ table: string; name: string; columns: string[]; definition: string }>(
    `SELECT c.relname AS table, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
            array_to_json(ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) ORDER BY a.attnum)) AS columns
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
        AND left(ic.relname, length($2)) <> $2
      ORDER BY c.relname, ic.relname`,
    [schema, INTERNAL_PREFIX],
  );
  for (const r of idx.rows) tables.get(r.table)?.indexes?.push({ name: r.name, columns: r.columns, definition: r.definition });
  const ident = await client.query<{ table: string; identity: string; index: string | null }>(
    `SELECT c.relname AS table, c.relreplident AS identity,
            (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident) AS index
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  for (const r of ident.rows) {
    const t = tables.get(r.table);
    if (t) t.replicaIdentity = r.index ? { type: 'index', index: r.index } : { type: IDENTITIES[r.identity] ?? 'default' };
  }
}

/**
 * Of the given `add_column` defaults, the ones Postgres would evaluate per row
 * (volatile): adding such a column with its default rewrites the whole table.
 * Probed on a temporary one-row table in a transaction that is rolled back:
 * Postgres keeps a non-volatile default as the row's "missing" value instead.
 */
export async function volatileDefaults(client: pg.ClientBase, probes: { key: string; type: string; default: string }[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (probes.length === 0) return out;
  await client.query('BEGIN');
  try {
    for (const [i, p] of probes.entries()) {
      const table = `pg_temp._sym_default_probe_${i}`;
      await client.query(`CREATE TEMP TABLE _sym_default_probe_${i} (x int)`);
      await client.query(`INSERT INTO ${table} VALUES (1)`);
      await client.query(`ALTER TABLE ${table} ADD COLUMN v ${p.type} DEFAULT ${p.default}`);
      const r = await client.query<{ missing: boolean }>(`SELECT atthasmissing AS missing FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'v'`);
      if (!r.rows[0]?.missing) out.add(p.key);
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return out;
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
