import type { Node, AlterTableCmd } from 'libpg-query';
import { names, tableName } from '../ast.js';

/** ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (Postgres docs, "ALTER TABLE", per subform). */
const WEAKER_ALTER_TABLE = new Set<string>([
  'AT_ValidateConstraint', // SHARE UPDATE EXCLUSIVE
  'AT_SetStatistics',
  'AT_SetOptions',
  'AT_ResetOptions',
  'AT_ClusterOn',
  'AT_DropCluster',
  'AT_SetRelOptions',
  'AT_ResetRelOptions',
  'AT_AttachPartition',
  'AT_EnableTrig', // SHARE ROW EXCLUSIVE
  'AT_EnableAlwaysTrig',
  'AT_EnableReplicaTrig',
  'AT_DisableTrig',
  'AT_EnableTrigAll',
  'AT_DisableTrigAll',
  'AT_EnableTrigUser',
  'AT_DisableTrigUser',
]);

function alterTakesAccessExclusive(cmd: AlterTableCmd): boolean {
  if (WEAKER_ALTER_TABLE.has(cmd.subtype ?? '')) return false;
  if (cmd.subtype === 'AT_DetachPartition' && cmd.def && 'PartitionCmd' in cmd.def && cmd.def.PartitionCmd.concurrent) return false;
  const def = cmd.def;
  // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables.
  if (cmd.subtype === 'AT_AddConstraint' && def && 'Constraint' in def && def.Constraint.contype === 'CONSTR_FOREIGN') return false;
  return true;
}

/** True when a VACUUM statement asks for FULL. */
export function isVacuumFull(stmt: Node): boolean {
  if (!('VacuumStmt' in stmt) || !stmt.VacuumStmt.is_vacuumcmd) return false;
  return (stmt.VacuumStmt.options ?? []).some((o) => {
    if (!('DefElem' in o) || o.DefElem.defname !== 'full') return false;
    const arg = o.DefElem.arg;
    if (arg && 'Boolean' in arg) return arg.Boolean.boolval === true;
    if (arg && 'String' in arg) return !/^(off|false|0|no)$/i.test(arg.String.sval ?? '');
    return true;
  });
}

/** True when a REINDEX statement has CONCURRENTLY. */
export function isReindexConcurrent(stmt: Node): boolean {
  if (!('ReindexStmt' in stmt)) return false;
  return (stmt.ReindexStmt.params ?? []).some((p) => 'DefElem' in p && p.DefElem.defname === 'concurrently');
}

/**
 * The existing tables (or indexes, for DROP INDEX / REINDEX) on which this
 * statement takes an ACCESS EXCLUSIVE lock, which blocks every read and write
 * of them and queues everything behind it while it waits. Relations created
 * earlier in the same file are left out: nothing else uses them yet.
 */
export function accessExclusiveTargets(stmt: Node, isNew: (relation: string) => boolean): string[] {
  const existing = (list: string[]): string[] => list.filter((t) => !isNew(t));
  if ('AlterTableStmt' in stmt) {
    const a = stmt.AlterTableStmt;
    const cmds = (a.cmds ?? []).flatMap((c) => ('AlterTableCmd' in c ? [c.AlterTableCmd] : []));
    return cmds.some(alterTakesAccessExclusive) ? existing([tableName(a.relation)]) : [];
  }
  if ('DropStmt' in stmt) {
    const d = stmt.DropStmt;
    const kinds = ['OBJECT_TABLE', 'OBJECT_MATVIEW', 'OBJECT_VIEW', 'OBJECT_INDEX'];
    if (!kinds.includes(d.removeType ?? '') || d.concurrent) return [];
    return existing((d.objects ?? []).map((o) => ('List' in o ? names(o.List.items).join('.') : '?')));
  }
  if ('TruncateStmt' in stmt) {
    return existing((stmt.TruncateStmt.relations ?? []).map((r) => ('RangeVar' in r ? tableName(r.RangeVar) : '?')));
  }
  if ('VacuumStmt' in stmt && isVacuumFull(stmt)) {
    return existing((stmt.VacuumStmt.rels ?? []).map((r) => ('VacuumRelation' in r ? tableName(r.VacuumRelation.relation) : '?')));
  }
  if ('ClusterStmt' in stmt) return stmt.ClusterStmt.relation ? existing([tableName(stmt.ClusterStmt.relation)]) : ['(every clustered table)'];
  if ('RenameStmt' in stmt) {
    const r = stmt.RenameStmt;
    if (r.renameType === 'OBJECT_INDEX' || !r.relation) return [];
    return existing([tableName(r.relation)]);
  }
  if ('ReindexStmt' in stmt && !isReindexConcurrent(stmt)) {
    const r = stmt.ReindexStmt;
    return r.relation ? existing([tableName(r.relation)]) : r.name ? existing([r.name]) : [];
  }
  if ('LockStmt' in stmt) {
    const mode = stmt.LockStmt.mode ?? 8;
    if (mode !== 8) return [];
    return existing((stmt.LockStmt.relations ?? []).map((r) => ('RangeVar' in r ? tableName(r.RangeVar) : '?')));
  }
  if ('RefreshMatViewStmt' in stmt && !stmt.RefreshMatViewStmt.concurrent) {
    return existing([tableName(stmt.RefreshMatViewStmt.relation)]);
  }
  return [];
}
