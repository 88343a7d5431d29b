import type { Node, RangeVar, TypeName, ColumnDef, Constraint, AlterTableCmd } from 'libpg-query';
import type { ColumnType } from './types.js';

/** `schema.table` when qualified, else `table`; the key the session uses for tables. */
export function tableName(rel: RangeVar | undefined): string {
  if (!rel?.relname) return '?';
  return rel.schemaname ? `${rel.schemaname}.${rel.relname}` : rel.relname;
}

/** The string values of a list of `String` nodes (qualified names, column lists). */
export function names(list: Node[] | undefined): string[] {
  const out: string[] = [];
  for (const n of list ?? []) if ('String' in n && n.String.sval !== undefined) out.push(n.String.sval);
  return out;
}

/** Reduce a parsed type to its canonical name, modifiers and array-ness. */
export function columnType(t: TypeName | undefined): ColumnType {
  const parts = names(t?.names);
  const mods: number[] = [];
  for (const m of t?.typmods ?? []) {
    if ('A_Const' in m) mods.push(m.A_Const.ival?.ival ?? 0);
  }
  return { name: parts[parts.length - 1] ?? '?', mods, array: (t?.arrayBounds?.length ?? 0) > 0 };
}

/** SQL spelling of a reduced type, for messages. */
const SQL_SPELLING: Record<string, string> = { int2: 'smallint', int4: 'integer', int8: 'bigint', float4: 'real', float8: 'double precision', bool: 'boolean' };

export function typeText(t: ColumnType): string {
  const name = SQL_SPELLING[t.name] ?? t.name;
  const base = t.mods.length ? `${name}(${t.mods.join(',')})` : name;
  return t.array ? `${base}[]` : base;
}

/** The constraints attached to a column definition. */
export function columnConstraints(def: ColumnDef): Constraint[] {
  const out: Constraint[] = [];
  for (const c of def.constraints ?? []) if ('Constraint' in c) out.push(c.Constraint);
  return out;
}

/** Visit every node below `root` (objects and arrays), depth first. */
export function walk(root: unknown, visit: (key: string, value: Record<string, unknown>) => void): void {
  if (Array.isArray(root)) {
    for (const item of root) walk(item, visit);
    return;
  }
  if (root === null || typeof root !== 'object') return;
  for (const [key, value] of Object.entries(root as Record<string, unknown>)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) visit(key, value as Record<string, unknown>);
    walk(value, visit);
  }
}

/** Names of every function called anywhere in an expression (`pg_catalog.` stripped), plus SQL value functions. */
export function functionsCalled(expr: Node | undefined): string[] {
  const out: string[] = [];
  walk(expr, (key, value) => {
    if (key === 'FuncCall') {
      const parts = names(value.funcname as Node[] | undefined);
      out.push(parts[parts.length - 1] ?? '?');
    }
    if (key === 'SQLValueFunction') out.push(String(value.op ?? '').replace(/^SVFOP_/, '').replace(/_N$/, '').toLowerCase());
  });
  return out;
}

/** A CHECK expression of the exact shape `col IS NOT NULL`: returns the column, else undefined. */
export function notNullColumn(expr: Node | undefined): string | undefined {
  if (!expr || !('NullTest' in expr)) return undefined;
  const test = expr.NullTest;
  if (test.nulltesttype !== 'IS_NOT_NULL' || !test.arg || !('ColumnRef' in test.arg)) return undefined;
  const fields = names(test.arg.ColumnRef.fields);
  return fields.length === 1 ? fields[0] : undefined;
}

/** Quote an identifier only when it needs it, for SQL shown in fixes. */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** Quote each part of a possibly qualified `schema.table` key. */
export function qualified(key: string): string {
  return key.split('.').map(ident).join('.');
}

/** The subcommands of an `ALTER TABLE` on a table (not an index, view or type), else undefined. */
export function alterTableCommands(stmt: Node): { table: string; cmds: AlterTableCmd[] } | undefined {
  if (!('AlterTableStmt' in stmt) || stmt.AlterTableStmt.objtype !== 'OBJECT_TABLE') return undefined;
  const cmds: AlterTableCmd[] = [];
  for (const c of stmt.AlterTableStmt.cmds ?? []) if ('AlterTableCmd' in c) cmds.push(c.AlterTableCmd);
  return { table: tableName(stmt.AlterTableStmt.relation), cmds };
}

/** The column definition an `ADD COLUMN` subcommand carries. */
export function addedColumn(cmd: AlterTableCmd): ColumnDef | undefined {
  if (cmd.subtype !== 'AT_AddColumn' || !cmd.def || !('ColumnDef' in cmd.def)) return undefined;
  return cmd.def.ColumnDef;
}

/** The constraint an `ADD CONSTRAINT` subcommand carries. */
export function addedConstraint(cmd: AlterTableCmd): Constraint | undefined {
  if (cmd.subtype !== 'AT_AddConstraint' || !cmd.def || !('Constraint' in cmd.def)) return undefined;
  return cmd.def.Constraint;
}
