import type { Constraint } from 'libpg-query';
import type { Hazard, StatementRule } from '../types.js';
import { addedColumn, addedConstraint, alterTableCommands, columnConstraints, ident, names, qualified, tableName } from '../ast.js';

/** ADD UNIQUE / PRIMARY KEY / EXCLUDE that builds its index under the ALTER TABLE lock. */
export const uniqueWithoutIndex: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const t = qualified(alter.table);
  const out: Hazard[] = [];
  const report = (con: Constraint, columns: string[]): void => {
    const kind = con.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : con.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'EXCLUDE';
    const name = con.conname ?? `${alter.table.split('.').pop()}_${columns.join('_') || 'x'}_${kind === 'PRIMARY KEY' ? 'pkey' : 'key'}`;
    const cols = columns.map(ident).join(', ') || '<columns>';
    const message = `ADD ${kind} builds its index while holding an ACCESS EXCLUSIVE lock on ${alter.table}: every read and write of ${alter.table} waits until the whole table is scanned and the index is built.`;
    if (kind === 'EXCLUDE') {
      out.push({ rule: 'unique-constraint-without-index', message, fix: 'An EXCLUDE constraint cannot be attached to an index built concurrently: add it when the table is small or empty, or enforce the rule in the application.' });
      return;
    }
    const notNull = kind === 'PRIMARY KEY' ? `Make ${cols} NOT NULL first (see rule set-not-null-without-check), then:\n` : '';
    out.push({
      rule: 'unique-constraint-without-index',
      message,
      fix: `${notNull}CREATE UNIQUE INDEX CONCURRENTLY ${ident(name)} ON ${t} (${cols});\nALTER TABLE ${t} ADD CONSTRAINT ${ident(name)} ${kind} USING INDEX ${ident(name)};`,
    });
  };
  for (const cmd of alter.cmds) {
    const con = addedConstraint(cmd);
    if (con && ['CONSTR_UNIQUE', 'CONSTR_PRIMARY', 'CONSTR_EXCLUSION'].includes(con.contype ?? '') && !con.indexname) report(con, names(con.keys));
    const col = addedColumn(cmd);
    for (const c of col ? columnConstraints(col) : []) {
      if (c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY') report(c, [col?.colname ?? '?']);
    }
  }
  return out;
};

/** ADD FOREIGN KEY / CHECK that validates every row while holding its lock. */
export const constraintWithoutNotValid: StatementRule = (stmt, session, text) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const t = qualified(alter.table);
  const out: Hazard[] = [];
  const single = alter.cmds.length === 1 ? text.trim().replace(/;$/, '') : undefined;
  for (const cmd of alter.cmds) {
    const con = addedConstraint(cmd);
    if (con && (con.contype === 'CONSTR_FOREIGN' || con.contype === 'CONSTR_CHECK') && !con.skip_validation) {
      const name = con.conname ? ident(con.conname) : '<name>';
      const lock = lockText(con, alter.table);
      out.push({
        rule: 'constraint-without-not-valid',
        message: `ADD ${con.contype === 'CONSTR_FOREIGN' ? 'FOREIGN KEY' : 'CHECK'} checks every existing row while holding ${lock} until the scan ends.`,
        fix:
          (single ? `${single} NOT VALID;` : `Add NOT VALID to the ADD CONSTRAINT ${name} clause;`) +
          `\n-- then, in a separate transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on):\nALTER TABLE ${t} VALIDATE CONSTRAINT ${name};` +
          (con.conname ? '' : '\nName the constraint (ADD CONSTRAINT <name> ...) so that it can be validated.'),
      });
    }
    const col = addedColumn(cmd);
    for (const c of col ? columnConstraints(col) : []) {
      if (c.contype !== 'CONSTR_FOREIGN' && c.contype !== 'CONSTR_CHECK') continue;
      const colName = ident(col?.colname ?? '?');
      const what = c.contype === 'CONSTR_FOREIGN' ? `FOREIGN KEY (${colName}) REFERENCES ${qualified(tableName(c.pktable))}` : 'CHECK (...)';
      out.push({
        rule: 'constraint-without-not-valid',
        message: `ADD COLUMN ${colName} with an inline ${c.contype === 'CONSTR_FOREIGN' ? 'REFERENCES' : 'CHECK'} validates the constraint against every row while holding ${lockText(c, alter.table)}; an inline constraint cannot be NOT VALID.`,
        fix: `ALTER TABLE ${t} ADD COLUMN ${colName} <type>;\nALTER TABLE ${t} ADD CONSTRAINT <name> ${what} NOT VALID;\n-- then, in a separate transaction:\nALTER TABLE ${t} VALIDATE CONSTRAINT <name>;`,
      });
    }
  }
  return out;
};

function lockText(con: Constraint, table: string): string {
  if (con.contype === 'CONSTR_FOREIGN') {
    const ref = tableName(con.pktable);
    return `a SHARE ROW EXCLUSIVE lock on ${table} and on ${ref}: INSERT, UPDATE and DELETE on both tables wait`;
  }
  return `an ACCESS EXCLUSIVE lock on ${table}: every read and write of ${table} waits`;
}

/** SET NOT NULL with no validated CHECK (col IS NOT NULL) earlier in the file to skip the scan. */
export const setNotNullWithoutCheck: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const t = qualified(alter.table);
  const out: Hazard[] = [];
  for (const cmd of alter.cmds) {
    if (cmd.subtype !== 'AT_SetNotNull' || !cmd.name) continue;
    const checks = session.notNullChecks.filter((c) => c.table === alter.table && c.column === cmd.name);
    if (checks.some((c) => c.validated)) continue;
    const col = ident(cmd.name);
    const pending = checks.find((c) => c.name);
    const name = pending?.name ? ident(pending.name) : ident(`${alter.table.split('.').pop()}_${cmd.name}_not_null`);
    const why = pending ? ` The CHECK ${name} added earlier is NOT VALID and is never validated in this file, so Postgres cannot use it.` : '';
    out.push({
      rule: 'set-not-null-without-check',
      message: `SET NOT NULL on ${alter.table}.${cmd.name} scans the whole table to prove there is no NULL while holding an ACCESS EXCLUSIVE lock: every read and write of ${alter.table} waits for the scan.${why}`,
      fix:
        (pending ? '' : `ALTER TABLE ${t} ADD CONSTRAINT ${name} CHECK (${col} IS NOT NULL) NOT VALID;\n`) +
        `ALTER TABLE ${t} VALIDATE CONSTRAINT ${name};  -- separate transaction; reads and writes go on\n` +
        `ALTER TABLE ${t} ALTER COLUMN ${col} SET NOT NULL;  -- no scan: Postgres 12+ uses the validated CHECK\n` +
        `ALTER TABLE ${t} DROP CONSTRAINT ${name};`,
    });
  }
  return out;
};
