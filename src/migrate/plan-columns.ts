import { MigrationError } from '../errors.js';
import { findColumn, findTable, type ColumnLayout, type TableLayout } from './layout.js';
import { asideName, fitIdent, ident, qualified, shadowColumn } from './names.js';
import type { AddColumn, AlterColumn, Check, DropColumn, References, RenameColumn } from './operations.js';
import type { PlanBuilder, TriggerFragment } from './plan-types.js';

export function tableOf(b: PlanBuilder, name: string, where: string): TableLayout {
  const t = findTable(b.after, name);
  if (!t) throw new MigrationError(`${where}: table ${name} does not exist in version ${b.version}'s starting schema`, `known tables: ${b.after.tables.map((x) => x.name).join(', ') || '(none)'}`);
  return t;
}

export function columnOf(b: PlanBuilder, t: TableLayout, name: string, where: string): ColumnLayout {
  const c = findColumn(t, name);
  if (!c) throw new MigrationError(`${where}: table ${t.name} has no column ${name}`, `its columns: ${t.columns.map((x) => x.name).join(', ')}`);
  const key = `${t.physical}.${c.physical}`;
  if (b.touched.has(key)) throw new MigrationError(`${where}: column ${t.name}.${name} is changed twice in one migration`, 'split the changes into two migration files');
  b.touched.add(key);
  return c;
}

function constraintName(b: PlanBuilder, tag: string, column: string): string {
  return fitIdent(`_sym_${tag}_${b.hash}_${column}`);
}

/** Replace a column name by another identifier in an expression, leaving string literals alone. */
export function renameInExpression(expr: string, from: string, to: string): string {
  const word = new RegExp(`(?<![A-Za-z0-9_$."])("?)${from.replace(/[$]/g, '\\$')}\\1(?![A-Za-z0-9_$"])`, 'g');
  return expr.split("'").map((part, i) => (i % 2 === 0 ? part.replace(word, to) : part)).join("'");
}

export function referencesClause(b: PlanBuilder, r: References, where: string): string {
  const target = tableOf(b, r.table, where);
  const col = findColumn(target, r.column);
  if (!col) throw new MigrationError(`${where}: referenced table ${r.table} has no column ${r.column}`);
  return `REFERENCES ${qualified(b.base, target.physical)} (${ident(col.physical)})${r.on_delete ? ` ON DELETE ${r.on_delete}` : ''}`;
}

/** Constraints added NOT VALID at start, validated at complete, dropped by rollback. */
function addConstraints(b: PlanBuilder, t: TableLayout, physical: string, finalName: string, spec: { check?: Check; references?: References; notNull: boolean }, where: string): void {
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
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(spec.check.name)} CHECK (${expr}) NOT VALID`);
    added.push(spec.check.name);
  }
  if (spec.references) {
    b.startTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(spec.references.name)} FOREIGN KEY (${ident(physical)}) ${referencesClause(b, spec.references, where)} NOT VALID`);
    added.push(spec.references.name);
  }
  for (const name of added) {
    b.validate.push(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${ident(name)}`);
    b.rollbackTx.push(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${ident(name)}`);
  }
}

function moveAside(b: PlanBuilder, t: TableLayout, physical: string): void {
  const to = asideName(b.version, physical, (n) => b.asideTaken.has(`c:${t.physical}.${n}`));
  const table = qualified(b.base, t.physical);
  b.rollbackTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(physical)} DROP DEFAULT`, `ALTER TABLE ${table} RENAME COLUMN ${ident(physical)} TO ${ident(to)}`);
  b.movedAside.push({ kind: 'column', table: t.physical, from: physical, to });
  b.abortTx.push(`ALTER TABLE ${table} DROP COLUMN IF EXISTS ${ident(physical)}`);
}

function fragment(b: PlanBuilder, t: TableLayout): TriggerFragment {
  let f = b.triggers.find((x) => x.table === t.physical);
  if (!f) b.triggers.push((f = { table: t.physical, oldSide: [], newSide: [], fills: [] }));
  return f;
}

export function planAddColumn(b: PlanBuilder, op: AddColumn, where: string): void {
  const t = tableOf(b, op.table, where);
  const col = op.column;
  if (findColumn(t, col.name) || b.before.tables.some((x) => x.physical === t.physical && x.columns.some((c) => c.physical === col.name))) {
    throw new MigrationError(`${where}: table ${op.table} already has a column ${col.name}`);
  }
  if (col.pk) throw new MigrationError(`${where}: adding a primary key column is not supported`, 'create a new table instead');
  const notNull = col.nullable !== true;
  if (notNull && !op.up && (col.default === undefined || col.default === null)) {
    throw new MigrationError(`${where}: column ${op.table}.${col.name} is NOT NULL (nullable defaults to false) but has neither \`up\` nor \`default\``, 'add `up: <expression>` to fill existing rows, a `default`, or `nullable: true`');
  }
  const table = qualified(b.base, t.physical);
  const withDefault = !op.up && col.default != null;
  b.startTx.push(`ALTER TABLE ${table} ADD COLUMN ${ident(col.name)} ${col.type}${withDefault ? ` DEFAULT ${col.default}` : ''}`);
  if (op.up && col.default != null) b.startTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(col.name)} SET DEFAULT ${col.default}`);
  addConstraints(b, t, col.name, col.name, { check: col.check, references: col.references, notNull }, where);
  if (col.unique) {
    const idx = fitIdent(`${t.physical}_${col.name}_key`);
    b.startConcurrent.push(`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(idx)} ON ${table} (${ident(col.name)})`);
    b.rollbackConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, idx)}`);
  }
  if (col.comment) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(col.name)} IS '${col.comment.replace(/'/g, "''")}'`);
  if (op.up) {
    const f = fragment(b, t);
    f.oldSide.push(`IF TG_OP = 'INSERT' OR NEW.${ident(col.name)} IS NULL THEN NEW.${ident(col.name)} := (${op.up}); END IF;`);
    f.fills.push({ column: col.name, value: op.up, onlyWhenNull: true });
    if (!b.backfill.includes(t.physical)) b.backfill.push(t.physical);
  }
  b.touched.add(`${t.physical}.${col.name}`);
  moveAside(b, t, col.name);
  t.columns.push({ name: col.name, physical: col.name, type: col.type, nullable: !notNull, default: col.default ?? null });
}

export function planDropColumn(b: PlanBuilder, op: DropColumn, where: string): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.column, where);
  if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: ${op.table}.${op.column} is part of the primary key and cannot be dropped`);
  if (!c.nullable && c.default === null && !op.down) {
    throw new MigrationError(`${where}: ${op.table}.${op.column} is NOT NULL without a default, so rows inserted by the new version need \`down\``, 'add `down: <expression>` giving the old column its value');
  }
  if (op.down) fragment(b, t).newSide.push(`IF TG_OP = 'INSERT' OR NEW.${ident(c.physical)} IS NULL THEN NEW.${ident(c.physical)} := (${op.down}); END IF;`);
  b.completeTx.push(`ALTER TABLE ${qualified(b.base, t.physical)} DROP COLUMN IF EXISTS ${ident(c.physical)}`);
  t.columns = t.columns.filter((x) => x !== c);
}

export function planRenameColumn(b: PlanBuilder, op: RenameColumn, where: string): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.column, where);
  if (findColumn(t, op.name)) throw new MigrationError(`${where}: table ${op.table} already has a column ${op.name}`);
  b.completeTx.push(`ALTER TABLE ${qualified(b.base, t.physical)} RENAME COLUMN ${ident(c.physical)} TO ${ident(op.name)}`);
  c.name = op.name;
}

export function planAlterColumn(b: PlanBuilder, op: AlterColumn, where: string): void {
  const t = tableOf(b, op.table, where);
  const c = columnOf(b, t, op.column, where);
  const finalName = op.name ?? c.name;
  if (op.name && op.name !== c.name && findColumn(t, op.name)) throw new MigrationError(`${where}: table ${op.table} already has a column ${op.name}`);
  const table = qualified(b.base, t.physical);
  const shadowed = op.type !== undefined || op.nullable !== undefined || op.check || op.unique || op.references;
  if (!shadowed) {
    if (op.name) b.completeTx.push(`ALTER TABLE ${table} RENAME COLUMN ${ident(c.physical)} TO ${ident(op.name)}`);
    if (op.default !== undefined) {
      b.viewDefaults.push({ table: t.physical, column: finalName, default: op.default });
      b.completeTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(finalName)} ${op.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${op.default}`}`);
      c.default = op.default;
    }
    if (op.comment !== undefined) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(finalName)} IS ${op.comment === null ? 'NULL' : `'${op.comment.replace(/'/g, "''")}'`}`);
    c.name = finalName;
    return;
  }
  if (t.primaryKey.includes(c.physical)) throw new MigrationError(`${where}: changing the type or constraints of primary key column ${op.table}.${op.column} is not supported`);
  const shadow = shadowColumn(c.physical);
  const type = op.type ?? c.type;
  const dflt = op.default !== undefined ? op.default : c.default;
  const notNull = op.nullable !== undefined ? !op.nullable : !c.nullable;
  b.startTx.push(`ALTER TABLE ${table} ADD COLUMN ${ident(shadow)} ${type}`);
  if (dflt !== null) b.startTx.push(`ALTER TABLE ${table} ALTER COLUMN ${ident(shadow)} SET DEFAULT ${dflt}`);
  addConstraints(b, t, shadow, finalName, { check: op.check, references: op.references, notNull }, where);
  if (op.unique) {
    b.startConcurrent.push(`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(op.unique.name)} ON ${table} (${ident(shadow)})`);
    b.rollbackConcurrent.push(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(b.base, op.unique.name)}`);
    b.completeTx.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(op.unique.name)} UNIQUE USING INDEX ${ident(op.unique.name)}`);
  }
  const f = fragment(b, t);
  f.oldSide.push(`NEW.${ident(shadow)} := (${op.up ?? ident(c.name)});`);
  f.fills.push({ column: shadow, value: op.up ?? ident(c.name), onlyWhenNull: false });
  f.newSide.push(`NEW.${ident(c.physical)} := (${op.down ?? ident(finalName)});`);
  if (!b.backfill.includes(t.physical)) b.backfill.push(t.physical);
  b.completeTx.unshift(`ALTER TABLE ${table} DROP COLUMN ${ident(c.physical)}`, `ALTER TABLE ${table} RENAME COLUMN ${ident(shadow)} TO ${ident(finalName)}`);
  if (op.comment) b.completeTx.push(`COMMENT ON COLUMN ${table}.${ident(finalName)} IS '${op.comment.replace(/'/g, "''")}'`);
  moveAside(b, t, shadow);
  Object.assign(c, { name: finalName, physical: shadow, type, nullable: !notNull, default: dflt });
}
