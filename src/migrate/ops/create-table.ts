import { z } from 'zod';
import { MigrationError } from '../../errors.js';
import { findTable, type ConstraintLayout, type TableLayout } from '../layout.js';
import { asideName, fitIdent, ident, literal, qualified } from '../names.js';
import type { PlanBuilder } from '../plan-types.js';
import { ColumnSpec, columnDefinition, deferrableClause, referencesClause } from './column.js';
import { Ident, Sql, comment, physicalOf, type OpContext } from './common.js';
import { IndexParametersSpec, TableReferencesSpec, indexTail } from './constraints.js';

const ConstraintType = z.enum(['unique', 'check', 'primary_key', 'foreign_key', 'exclude']);

/** A table constraint of `create_table.constraints` (pgroll's Constraint). */
export const TableConstraintSpec = z
  .strictObject({
    name: Ident,
    type: ConstraintType,
    columns: z.array(Ident).optional(),
    check: z.string().optional(),
    nulls_not_distinct: z.boolean().optional(),
    deferrable: z.boolean().optional(),
    initially_deferred: z.boolean().optional(),
    no_inherit: z.boolean().optional(),
    references: TableReferencesSpec.optional(),
    index_parameters: IndexParametersSpec.optional(),
    exclude: z.strictObject({ index_method: z.string().optional(), elements: Sql, predicate: z.string().optional() }).optional(),
  })
  .superRefine((k, ctx) => {
    const need = (field: 'columns' | 'check' | 'references' | 'exclude') => {
      const v = k[field];
      if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) ctx.addIssue({ code: 'custom', path: [field], message: `a ${k.type} constraint needs \`${field}\`` });
    };
    if (k.type === 'unique' || k.type === 'primary_key' || k.type === 'foreign_key') need('columns');
    if (k.type === 'check') need('check');
    if (k.type === 'foreign_key') need('references');
    if (k.type === 'exclude') need('exclude');
    if (k.nulls_not_distinct && k.type !== 'unique') ctx.addIssue({ code: 'custom', path: ['nulls_not_distinct'], message: 'only a unique constraint takes nulls_not_distinct' });
    if (k.no_inherit && k.type !== 'check') ctx.addIssue({ code: 'custom', path: ['no_inherit'], message: 'only a check constraint takes no_inherit' });
  });

export type TableConstraint = z.infer<typeof TableConstraintSpec>;

export const CreateTableSpec = z
  .strictObject({ name: Ident, columns: z.array(ColumnSpec).min(1), constraints: z.array(TableConstraintSpec).optional(), comment: z.string().optional() })
  .superRefine((op, ctx) => {
    const pks = (op.constraints ?? []).filter((k) => k.type === 'primary_key');
    if (pks.length > 1) ctx.addIssue({ code: 'custom', path: ['constraints'], message: 'a table has one primary key: give one primary_key constraint' });
    if (pks.length && op.columns.some((c) => c.pk)) {
      ctx.addIssue({ code: 'custom', path: ['constraints'], message: 'the primary key is set both by `pk: true` on columns and by a primary_key constraint: keep one of the two' });
    }
  });

export type CreateTable = z.infer<typeof CreateTableSpec>;

function constraintClause(b: PlanBuilder, t: TableLayout, k: TableConstraint, where: string): string {
  const col = (n: string) => physicalOf(t, n, where);
  const cols = (k.columns ?? []).map((n) => ident(col(n))).join(', ');
  const tail = indexTail(k.index_parameters, col, false, true);
  const body = {
    unique: () => `UNIQUE${k.nulls_not_distinct ? ' NULLS NOT DISTINCT' : ''} (${cols})${tail}`,
    check: () => `CHECK (${k.check})${k.no_inherit ? ' NO INHERIT' : ''}`,
    primary_key: () => `PRIMARY KEY (${cols})${tail}`,
    foreign_key: () => `FOREIGN KEY (${cols}) ${referencesClause(b, k.references!, where, col)}`,
    exclude: () => {
      const x = k.exclude!;
      return `EXCLUDE${x.index_method ? ` USING ${x.index_method}` : ''} (${x.elements})${tail}${x.predicate ? ` WHERE (${x.predicate})` : ''}`;
    },
  }[k.type]();
  return `CONSTRAINT ${ident(k.name)} ${body}${k.type === 'check' ? '' : deferrableClause(k)}`;
}

function layoutConstraints(op: CreateTable): ConstraintLayout[] {
  const out: ConstraintLayout[] = [];
  const pk = op.columns.filter((c) => c.pk).map((c) => c.name);
  if (pk.length) out.push({ name: fitIdent(`${op.name}_pkey`), type: 'primary_key', columns: pk });
  for (const c of op.columns) {
    if (c.unique) out.push({ name: fitIdent(`${op.name}_${c.name}_key`), type: 'unique', columns: [c.name] });
    if (c.check) out.push({ name: c.check.name, type: 'check', columns: [c.name] });
    if (c.references) out.push({ name: c.references.name, type: 'foreign_key', columns: [c.name] });
  }
  for (const k of op.constraints ?? []) out.push({ name: k.name, type: k.type, columns: k.columns ?? [] });
  return out;
}

/**
 * Created at start (only the new version's views show it). Several `pk: true`
 * columns make one composite primary key. Rollback renames the table aside.
 */
export function planCreateTable(b: PlanBuilder, op: CreateTable, { where }: OpContext): void {
  if (findTable(b.after, op.name) || b.before.tables.some((t) => t.physical === op.name)) {
    throw new MigrationError(`${where}: table ${op.name} already exists`);
  }
  const constraints = layoutConstraints(op);
  const t: TableLayout = {
    name: op.name,
    physical: op.name,
    primaryKey: constraints.find((k) => k.type === 'primary_key')?.columns ?? [],
    columns: op.columns.map((c) => ({ name: c.name, physical: c.name, type: c.type, nullable: c.nullable === true && !c.pk, default: c.default ?? null })),
    constraints,
    replicaIdentity: { type: 'default' },
  };
  for (const c of t.columns) if (t.primaryKey.includes(c.name)) c.nullable = false;
  b.after.tables.push(t);
  const table = qualified(b.base, op.name);
  const parts = op.columns.map((c) => columnDefinition(b, c, where));
  const pk = op.columns.filter((c) => c.pk);
  // Unnamed, as Postgres names it (`<table>_pkey`, or a free variant when a table rolled back aside holds that name).
  if (pk.length) parts.push(`PRIMARY KEY (${pk.map((c) => ident(c.name)).join(', ')})`);
  for (const k of op.constraints ?? []) parts.push(constraintClause(b, t, k, where));
  b.startTx.push(`CREATE TABLE ${table} (${parts.join(', ')})`);
  if (op.comment) b.startTx.push(`COMMENT ON TABLE ${table} IS ${comment(op.comment)}`);
  for (const c of op.columns) {
    if (c.comment) b.startTx.push(`COMMENT ON COLUMN ${table}.${ident(c.name)} IS ${comment(c.comment)}`);
  }
  const to = asideName(b.version, op.name, (n) => b.asideTaken.has(`t:${n}`));
  b.rollbackTx.push(`ALTER TABLE ${table} RENAME TO ${ident(to)}`);
  // Index names belong to the schema: the table kept aside gives its indexes (and so its key,
  // unique and exclude constraints) other names, so a next start can use the file's names again.
  b.rollbackTx.push(`DO $sym$ DECLARE r record; n text; i int; BEGIN
  FOR r IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = ${literal(`${ident(b.base)}.${ident(to)}`)}::regclass LOOP
    n := left(${literal(`_sym_rb_${b.hash}_`)} || r.relname, 63); i := 1;
    WHILE to_regclass(format('%I.%I', ${literal(b.base)}, n)) IS NOT NULL LOOP i := i + 1; n := left(${literal(`_sym_rb_${b.hash}_`)} || r.relname, 58) || '_' || i; END LOOP;
    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', ${literal(b.base)}, r.relname, n);
  END LOOP; END $sym$`);
  b.movedAside.push({ kind: 'table', table: op.name, from: op.name, to });
  b.abortTx.push(`DROP TABLE IF EXISTS ${table}`);
}
