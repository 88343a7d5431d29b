import type { StatementRule } from '../types.js';
import { tableName } from '../ast.js';
import { accessExclusiveTargets, isVacuumFull } from './locks.js';

/** The first ACCESS EXCLUSIVE statement of a stretch with no lock_timeout in effect. */
export const requireLockTimeout: StatementRule = (stmt, session) => {
  if (session.lockTimeoutSet || session.unboundedLockReported) return [];
  const targets = accessExclusiveTargets(stmt, (r) => session.createdTables.has(r) || session.createdIndexes.has(r));
  if (targets.length === 0) return [];
  return [
    {
      rule: 'require-lock-timeout',
      message:
        `This statement takes an ACCESS EXCLUSIVE lock on ${targets.join(', ')} and no lock_timeout is in effect. ` +
        `If any transaction (a long report, an idle-in-transaction session, autovacuum) holds even a weak lock there, the statement waits without limit, ` +
        `and every later read and write of ${targets.join(', ')} queues behind it: the app stalls although the change itself is instant.`,
      fix:
        `SET lock_timeout = '2s';  -- before this statement; give up instead of queueing everyone\n` +
        `and retry the migration when it fails with "canceling statement due to lock timeout" (Symphony's engine retries with backoff).`,
    },
  ];
};

/** VACUUM FULL and CLUSTER rewrite the whole table under ACCESS EXCLUSIVE. */
export const vacuumFullOrCluster: StatementRule = (stmt, session) => {
  let what: string | undefined;
  let tables: string[] = [];
  if (isVacuumFull(stmt) && 'VacuumStmt' in stmt) {
    what = 'VACUUM FULL';
    tables = (stmt.VacuumStmt.rels ?? []).map((r) => ('VacuumRelation' in r ? tableName(r.VacuumRelation.relation) : '?'));
  } else if ('ClusterStmt' in stmt) {
    what = 'CLUSTER';
    tables = stmt.ClusterStmt.relation ? [tableName(stmt.ClusterStmt.relation)] : [];
  }
  if (!what) return [];
  const existing = tables.filter((t) => !session.createdTables.has(t));
  if (tables.length > 0 && existing.length === 0) return [];
  const where = existing.length ? existing.join(', ') : 'every table in the database';
  return [
    {
      rule: 'vacuum-full-or-cluster',
      message: `${what} copies all of ${where} into new files while holding an ACCESS EXCLUSIVE lock: every read and write waits for the whole copy, and it needs free disk equal to the table's size.`,
      fix: `Do not run it in a migration. Rebuild online with pg_repack (pg_repack --table=<table>) or pg_squeeze, or let plain VACUUM / autovacuum reclaim space for reuse.`,
    },
  ];
};

/** TRUNCATE of a table that existed before this file. */
export const truncateTable: StatementRule = (stmt, session) => {
  if (!('TruncateStmt' in stmt)) return [];
  const tables = (stmt.TruncateStmt.relations ?? []).map((r) => ('RangeVar' in r ? tableName(r.RangeVar) : '?')).filter((t) => !session.createdTables.has(t));
  if (tables.length === 0) return [];
  const cascade = stmt.TruncateStmt.behavior === 'DROP_CASCADE' ? ' CASCADE also empties every table with a foreign key to them.' : '';
  return [
    {
      rule: 'truncate-table',
      message: `TRUNCATE ${tables.join(', ')} deletes every row, including rows the running release writes meanwhile, and takes an ACCESS EXCLUSIVE lock that blocks all reads and writes until the transaction ends; a release rollback cannot bring the rows back.${cascade}`,
      fix: `If the data must go, delete in batches that each lock only the rows they touch:\nDELETE FROM ${tables[0]} WHERE ctid IN (SELECT ctid FROM ${tables[0]} LIMIT 10000);  -- repeat until 0 rows\nIf the table itself is obsolete, use a Symphony drop_table operation.`,
    },
  ];
};
