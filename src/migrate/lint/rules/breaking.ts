import type { Hazard, StatementRule } from '../types.js';
import { alterTableCommands, ident, names, qualified, tableName } from '../ast.js';

const OLD_RELEASE = 'The release still running (blue) keeps using the old schema until it is drained';

/** ALTER TABLE ... DROP COLUMN on a table that existed before this file. */
export const dropColumn: StatementRule = (stmt, session) => {
  const alter = alterTableCommands(stmt);
  if (!alter || session.createdTables.has(alter.table)) return [];
  const out: Hazard[] = [];
  for (const cmd of alter.cmds) {
    if (cmd.subtype !== 'AT_DropColumn' || !cmd.name) continue;
    out.push({
      rule: 'drop-column',
      message: `${OLD_RELEASE}: its queries that read or write ${alter.table}.${cmd.name} fail from the moment this commits (and the DROP takes an ACCESS EXCLUSIVE lock on ${alter.table}). Its data is gone, so a rollback cannot bring it back.`,
      fix: `Use a Symphony migration operation instead: { drop_column: { table: ${alter.table}, column: ${cmd.name}, down: <value for old rows> } }. The new schema version hides the column at start; it is dropped physically at complete, after the old release is drained.`,
    });
  }
  return out;
};

/** DROP TABLE of a table that existed before this file. */
export const dropTable: StatementRule = (stmt, session) => {
  if (!('DropStmt' in stmt) || stmt.DropStmt.removeType !== 'OBJECT_TABLE') return [];
  const tables = (stmt.DropStmt.objects ?? []).map((o) => ('List' in o ? names(o.List.items).join('.') : '?')).filter((t) => !session.createdTables.has(t));
  return tables.map((t) => ({
    rule: 'drop-table',
    message: `${OLD_RELEASE}: every query of the old release on ${t} fails from the moment this commits, and the table's data cannot be recovered by a rollback. DROP TABLE also waits for an ACCESS EXCLUSIVE lock on ${t}.`,
    fix: `Use a Symphony migration operation instead: { drop_table: { name: ${t} } }, which removes it from the new schema version at start and drops it at complete; or stop using ${qualified(t)} in one release and drop it in the next.`,
  }));
};

/** ALTER TABLE ... RENAME COLUMN / ALTER TABLE ... RENAME TO. */
export const renames: StatementRule = (stmt, session) => {
  if (!('RenameStmt' in stmt)) return [];
  const r = stmt.RenameStmt;
  const table = tableName(r.relation);
  if (!r.relation || session.createdTables.has(table)) return [];
  if (r.renameType === 'OBJECT_COLUMN' && r.relationType === 'OBJECT_TABLE') {
    return [
      {
        rule: 'rename-column',
        message: `${OLD_RELEASE}: its queries name ${table}.${r.subname} and fail with "column does not exist" from the moment this commits.`,
        fix: `Use a Symphony migration operation instead: { rename_column: { table: ${table}, column: ${r.subname}, name: ${r.newname} } }. The old schema version keeps a view that exposes ${ident(r.subname ?? '?')}, the new one exposes ${ident(r.newname ?? '?')}; the physical rename happens at complete.`,
      },
    ];
  }
  if (r.renameType === 'OBJECT_TABLE') {
    return [
      {
        rule: 'rename-table',
        message: `${OLD_RELEASE}: its queries name ${table} and fail with "relation does not exist" from the moment this commits.`,
        fix: `Use a Symphony migration operation instead: { rename_table: { from: ${table}, to: ${r.newname} } }; the old schema version keeps a view named ${qualified(table)} until complete. By hand: rename, then CREATE VIEW ${qualified(table)} AS SELECT * FROM ${ident(r.newname ?? '?')} in the same transaction, and drop the view once the old release is gone.`,
      },
    ];
  }
  return [];
};
