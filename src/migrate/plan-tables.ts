import { MigrationError } from '../errors.js';
import { findColumn, findTable } from './layout.js';
import { asideName, ident, qualified } from './names.js';
import type { Column, CreateIndex, CreateTable, DropIndex, DropTable, RawSql, RenameTable } from './operations.js';
import { referencesClause, tableOf } from './plan-columns.js';
import type { PlanBuilder } from './plan-types.js';

function columnDefinition(b: PlanBuilder, c: Column, where: string): string {
  const parts = [ident(c.name), c.type];
  if (c.pk) parts.push('PRIMARY KEY');
  else if (c.nullable !== true) parts.push('NOT NULL');
  if (c.default != null) parts.push(`DEFAULT ${c.default}`);
  if (c.unique) parts.push('UNIQUE');
  if (c.check) parts.push(`CONSTRAINT ${ident(c.check.name)} CHECK (${c.check.constraint})`);
  if (c.references) parts.push(`CONSTRAINT ${ident(c.references.name)} ${referencesClause(b, c.references, where)}`);
  return parts.join(' ');
}

export function planCreateTable(b: PlanBuilder, op: CreateTable, where: string): void {
  if (findTable(b.after, op.name) || b.before.tables.some((t) => t.physical === op.name)) {
    throw new MigrationError(`${where}: table ${op.name} already exists`);
  }
  const table = qualified(b.base, op.name);
  b.startTx.push(`CREATE TABLE ${table} (${op.columns.map((c) => columnDefinition(b, c, where)).join(', ')})`);
  if (op.comment) b.startTx.push(`COMMENT ON TABLE ${table} IS '${op.comment.replace(/'/g, "''")}'`);
  for (const c of op.columns) {
    if (c.comment) b.startTx.push(`COMMENT ON COLUMN ${table}.${ident(c.name)} IS '${c.comment.replace(/'/g, "''")}'`);
  }
  const to = asideName(b.version, op.name, (n) => b.asideTaken.has(`t:${n}`));
  b.rollbackTx.push(`ALTER TABLE ${table} RENAME TO ${ident(to)}`);
  b.movedAside.push({ kind: 'table', table: op.name, from: op.name, to });
  b.abortTx.push(`DROP TABLE IF EXISTS ${table}`);
  b.after.tables.push({
    name: op.name,
    physical: op.name,
    primaryKey: op.columns.filter((c) => c.pk).map((c) => c.name),
    columns: op.columns.map((c) => ({ name: c.name, physical: c.name, type: c.type, nullable: c.nullable === true && !c.pk, default: c.default ?? null })),
  });
}

export function planDropTable(b: PlanBuilder, op: DropTable, where: string): void {
  const t = tableOf(b, op.name, where);
  b.completeLast.push(`DROP TABLE IF EXISTS ${qualified(b.base, t.physical)}`);
  b.after.tables = b.after.tables.filter((x) => x !== t);
}

export function planRenameTable(b: PlanBuilder, op: RenameTable, where: string): void {
  const t = tableOf(b, op.from, where);
  if (findTable(b.after, op.to)) throw new MigrationError(`${where}: table ${op.to} already exists`);
  b.completeLast.push(`ALTER TABLE ${qualified(b.base, t.physical)} RENAME TO ${ident(op.to)}`);
  t.name = op.to;
}

export function planCreateIndex(b: PlanBuilder, op: CreateIndex, where: string): void {
  const t = tableOf(b, op.table, where);
  const cols = op.columns.map((name) => {
    const c = findColumn(t, name);
    if (!c) throw new MigrationError(`${where}: table ${op.table} has no column ${name} to index`, `its columns: ${t.columns.map((x) => x.name).join(', ')}`);
    return ident(c.physical);
  });
  const using = op.method ? ` USING ${op.method}` : '';
  const where_ = op.predicate ? ` WHERE ${op.predicate}` : '';
  b.startConcurrent.push(`CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${ident(op.name)} ON ${qualified(b.base, t.physical)}${using} (${cols.join(', ')})${where_}`);
  b.rollbackConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, op.name)}`);
  b.abortConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, op.name)}`);
}

export function planDropIndex(b: PlanBuilder, op: DropIndex): void {
  b.completeConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, op.name)}`);
}

export function planSql(b: PlanBuilder, op: RawSql, where: string, alone: boolean): void {
  if (op.onComplete) {
    if (op.down) throw new MigrationError(`${where}: \`down\` cannot be combined with \`onComplete: true\` (nothing to undo after complete)`);
    b.completeTx.push(op.up);
    return;
  }
  if (!alone) throw new MigrationError(`${where}: a sql operation must be alone in its migration (or set \`onComplete: true\`)`, 'move it to its own migration file');
  b.startTx.push(op.up);
  b.rereadAfterStart = true;
  if (op.down) {
    b.rollbackTx.push(op.down);
    b.abortTx.push(op.down);
  }
}
