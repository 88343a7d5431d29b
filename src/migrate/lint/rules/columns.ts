import type { ColumnDef } from 'libpg-query';
import type { Hazard, StatementRule } from '../types.js';
import { addedColumn, alterTableCommands, columnConstraints, columnType, functionsCalled, ident, qualified, typeText } from '../ast.js';
import { judgeTypeChange } from './type-change.js';

/** Functions Postgres marks VOLATILE that people put in column defaults. */
const VOLATILE = new Set([
  'random', 'random_normal', 'setseed', 'clock_timestamp', 'timeofday', 'nextval', 'gen_random_uuid', 'uuidv4', 'uuidv7',
  'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'txid_current', 'pg_current_xact_id', 'gen_random_bytes',
]);

/** STABLE or IMMUTABLE functions common in defaults: evaluated once for the ADD COLUMN, no rewrite. */
const NOT_VOLATILE = new Set([
  'now', 'statement_timestamp', 'transaction_timestamp', 'current_date', 'current_time', 'current_timestamp', 'localtime',
  'localtimestamp', 'current_user', 'session_user', 'current_role', 'user', 'current_catalog', 'current_schema',
  'lower', 'upper', 'concat', 'length', 'to_jsonb', 'to_json', 'jsonb_build_object', 'json_build_object', 'jsonb_build_array',
  'make_interval', 'make_date', 'to_timestamp', 'to_date', 'date_trunc', 'abs', 'round', 'array_fill', 'format',
]);

const SERIAL_INT: Record<string, string> = { serial: 'integer', serial4: 'integer', bigserial: 'bigint', serial8: 'bigint', smallserial: 'smallint', serial2: 'smallint' };
const SERIAL = new Set(Object.keys(SERIAL_INT));

function backfillFix(table: string, col: ColumnDef, type: string, expr: string): string {
  const t = qualified(table);
  const c = ident(col.colname ?? '?');
  return (
    `ALTER TABLE ${t} ADD COLUMN ${c} ${type};\n` +
    `ALTER TABLE ${t} ALTER COLUMN ${c} SET DEFAULT ${expr};  -- new rows only, no rewrite\n` +
    `-- then backfill existing rows in small batches (or use a Symphony add_column operation with \`up\`):\n` +
    `UPDATE ${t} SET ${c} = ${expr} WHERE <primary key> BETWEEN <n> AND <n + 10000> AND ${c} IS NULL;`
  );
}

/** ADD COLUMN whose default (or identity / stored generated value) must be computed per row: a full rewrite. */
export const addColumnVolatileDefault: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const out: Hazard[] = [];
  const rewrite = `so ADD COLUMN rewrites every row of ${alter.table} (and rebuilds its indexes) while holding an ACCESS EXCLUSIVE lock: every read and write of ${alter.table} waits for the rewrite.`;
  for (const cmd of alter.cmds) {
    const col = addedColumn(cmd);
    if (!col) continue;
    const type = columnType(col.typeName);
    const rule = 'add-column-volatile-default';
    if (SERIAL.has(type.name)) {
      out.push({ rule, message: `${type.name} gives each existing row its own nextval() value, ${rewrite}`, fix: backfillFix(alter.table, col, SERIAL_INT[type.name] ?? 'bigint', `nextval('<sequence>')`) });
      continue;
    }
    for (const con of columnConstraints(col)) {
      if (con.contype === 'CONSTR_IDENTITY' || (con.contype === 'CONSTR_GENERATED' && con.generated_kind !== 'v')) {
        const what = con.contype === 'CONSTR_IDENTITY' ? 'An identity column numbers each existing row' : 'A STORED generated column is computed for each existing row';
        out.push({ rule, message: `${what}, ${rewrite}`, fix: 'Add a plain nullable column, fill it in batches, then attach the identity/expression with a trigger or in a maintenance window; or create the table anew and copy in batches.' });
        continue;
      }
      if (con.contype !== 'CONSTR_DEFAULT') continue;
      const fns = functionsCalled(con.raw_expr);
      const volatile = fns.filter((f) => VOLATILE.has(f));
      const unknown = fns.filter((f) => !VOLATILE.has(f) && !NOT_VOLATILE.has(f));
      const shown = (f: string[]): string => f.map((x) => `${x}()`).join(', ');
      const expr = fns.length === 1 ? `${fns[0]}()` : '<the default expression>';
      if (volatile.length > 0) {
        out.push({ rule, message: `The DEFAULT calls ${shown(volatile)}, which is VOLATILE: Postgres must evaluate it once per existing row, ${rewrite}`, fix: backfillFix(alter.table, col, typeText(type), expr) });
      } else if (unknown.length > 0) {
        out.push({
          rule,
          severity: 'warning',
          message: `The DEFAULT calls ${shown(unknown)}, whose volatility the linter does not know. If it is VOLATILE (the default for CREATE FUNCTION), Postgres evaluates it per existing row, ${rewrite}`,
          fix: `Check with: SELECT proname, provolatile FROM pg_proc WHERE proname IN (${unknown.map((f) => `'${f}'`).join(', ')});  -- 'v' = volatile\nIf volatile:\n${backfillFix(alter.table, col, typeText(type), expr)}\nIf stable or immutable, silence this with -- symphony-lint-ignore: ${rule}`,
        });
      }
    }
  }
  return out;
};

/** ADD COLUMN ... NOT NULL with nothing to fill existing rows and old INSERTs. */
export const addNotNullColumnWithoutDefault: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const out: Hazard[] = [];
  for (const cmd of alter.cmds) {
    const col = addedColumn(cmd);
    if (!col) continue;
    const cons = columnConstraints(col);
    const notNull = cons.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY');
    const filled = cons.some((c) => ['CONSTR_DEFAULT', 'CONSTR_IDENTITY', 'CONSTR_GENERATED'].includes(c.contype ?? ''));
    if (!notNull || filled || SERIAL.has(columnType(col.typeName).name)) continue;
    const t = qualified(alter.table);
    const c = ident(col.colname ?? '?');
    out.push({
      rule: 'add-not-null-column-without-default',
      message: `ADD COLUMN ${c} NOT NULL with no DEFAULT fails with "column ${col.colname} contains null values" as soon as ${alter.table} has a row, and once it exists every INSERT of the running release (which does not name ${c}) fails.`,
      fix:
        `Either give it a constant default (instant on Postgres 11+, old INSERTs keep working):\n` +
        `ALTER TABLE ${t} ADD COLUMN ${c} ${typeText(columnType(col.typeName))} NOT NULL DEFAULT <constant>;\n` +
        `or add it nullable, backfill in batches, then SET NOT NULL behind a validated CHECK (see set-not-null-without-check) — ` +
        `a Symphony add_column operation with \`up\` does all of this.`,
    });
  }
  return out;
};

/** ALTER COLUMN ... TYPE that rewrites the table under ACCESS EXCLUSIVE. */
export const alterColumnTypeRewrite: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const out: Hazard[] = [];
  for (const cmd of alter.cmds) {
    if (cmd.subtype !== 'AT_AlterColumnType' || !cmd.name || !cmd.def || !('ColumnDef' in cmd.def)) continue;
    const def = cmd.def.ColumnDef;
    const to = columnType(def.typeName);
    const verdict = judgeTypeChange(session.columnTypes.get(`${alter.table}.${cmd.name}`), to, def.raw_default !== undefined);
    if (verdict.kind === 'free') continue;
    out.push({
      rule: 'alter-column-type-rewrite',
      severity: verdict.kind === 'unknown' ? 'warning' : undefined,
      message: `ALTER COLUMN ${cmd.name} TYPE ${typeText(to)} holds an ACCESS EXCLUSIVE lock on ${alter.table}, and ${verdict.reason}: every read and write of ${alter.table} waits until it ends.`,
      fix:
        `Use a Symphony alter_column operation with \`type\`, \`up\` and \`down\`: it adds a new column of type ${typeText(to)}, keeps old and new in sync with triggers, backfills in batches and swaps at complete. ` +
        `By hand: add column ${ident(cmd.name)}_new ${typeText(to)}, sync it with a trigger, backfill in batches, then switch readers and drop the old column.` +
        (verdict.kind === 'unknown' ? `\nIf the current type is a narrower varchar/numeric (no rewrite), silence this with -- symphony-lint-ignore: alter-column-type-rewrite` : ''),
    });
  }
  return out;
};
