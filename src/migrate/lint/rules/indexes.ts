import type { Node } from 'libpg-query';
import type { Hazard, SessionView, StatementRule } from '../types.js';
import { names, qualified, tableName } from '../ast.js';
import { isReindexConcurrent } from './locks.js';

const OUTSIDE_TX =
  'Run it outside any transaction block. If it fails half-way it leaves an INVALID index: drop it with DROP INDEX CONCURRENTLY and run the statement again.';
const IN_TX = 'This SQL runs inside a transaction, where CONCURRENTLY is refused: use a Symphony create_index / drop_index operation instead, which runs concurrently outside it.';

function where(session: SessionView): string {
  return session.inTransaction ? IN_TX : OUTSIDE_TX;
}

/** CREATE INDEX / REINDEX without CONCURRENTLY on a table that already exists. */
export const requireConcurrentIndex: StatementRule = (stmt, session, text) => {
  if ('IndexStmt' in stmt) {
    const idx = stmt.IndexStmt;
    const table = tableName(idx.relation);
    if (idx.concurrent || session.createdTables.has(table)) return [];
    const safe = text.replace(/^\s*create\s+(unique\s+)?index\s+(?!concurrently)/i, (m, u: string | undefined) => `CREATE ${u ? 'UNIQUE ' : ''}INDEX CONCURRENTLY `);
    return [
      {
        rule: 'require-concurrent-index',
        message: `CREATE INDEX without CONCURRENTLY holds a SHARE lock on ${table} for the whole build: every INSERT, UPDATE and DELETE on ${table} waits until the index is built, which takes minutes on a large table.`,
        fix: `${safe.trim()}${safe.trim().endsWith(';') ? '' : ';'}\n${where(session)}`,
      },
    ];
  }
  if ('ReindexStmt' in stmt && !isReindexConcurrent(stmt)) {
    const r = stmt.ReindexStmt;
    const target = r.relation ? tableName(r.relation) : (r.name ?? '?');
    if (session.createdTables.has(target) || session.createdIndexes.has(target)) return [];
    return [
      {
        rule: 'require-concurrent-index',
        message: `REINDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index being rebuilt (reads that use it wait) and a SHARE lock on its table (writes wait) until ${target} is rebuilt.`,
        fix: `${text.trim().replace(/^reindex\s+/i, 'REINDEX (CONCURRENTLY) ').replace(/;?$/, ';')}\n${where(session)}`,
      },
    ];
  }
  return [];
};

/** DROP INDEX without CONCURRENTLY on an index this file did not create. */
export const requireConcurrentDropIndex: StatementRule = (stmt, session) => {
  if (!('DropStmt' in stmt) || stmt.DropStmt.removeType !== 'OBJECT_INDEX' || stmt.DropStmt.concurrent) return [];
  const indexes = (stmt.DropStmt.objects ?? []).map((o) => ('List' in o ? names(o.List.items).join('.') : '?'));
  const existing = indexes.filter((i) => !session.createdIndexes.has(i));
  if (existing.length === 0) return [];
  const ifExists = stmt.DropStmt.missing_ok ? 'IF EXISTS ' : '';
  return [
    {
      rule: 'require-concurrent-drop-index',
      message: `DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table of ${existing.join(', ')}: every read and write of that table waits, and so does everything queued behind the DROP while it waits for running transactions.`,
      fix: `${existing.map((i) => `DROP INDEX CONCURRENTLY ${ifExists}${qualified(i)};`).join('\n')}\n${session.inTransaction ? IN_TX : 'Run it outside any transaction block (one index per statement).'}`,
    },
  ];
};

function concurrentKind(stmt: Node): string | undefined {
  if ('IndexStmt' in stmt && stmt.IndexStmt.concurrent) return 'CREATE INDEX CONCURRENTLY';
  if ('DropStmt' in stmt && stmt.DropStmt.removeType === 'OBJECT_INDEX' && stmt.DropStmt.concurrent) return 'DROP INDEX CONCURRENTLY';
  if (isReindexConcurrent(stmt)) return 'REINDEX CONCURRENTLY';
  if ('AlterTableStmt' in stmt) {
    const detach = (stmt.AlterTableStmt.cmds ?? []).some(
      (c) => 'AlterTableCmd' in c && c.AlterTableCmd.def !== undefined && 'PartitionCmd' in c.AlterTableCmd.def && c.AlterTableCmd.def.PartitionCmd.concurrent === true,
    );
    if (detach) return 'DETACH PARTITION CONCURRENTLY';
  }
  return undefined;
}

/** A CONCURRENTLY operation inside a transaction block: Postgres refuses it. */
export const concurrentInTransaction: StatementRule = (stmt, session: SessionView): Hazard[] => {
  const kind = concurrentKind(stmt);
  if (!kind || !session.inTransaction) return [];
  return [
    {
      rule: 'concurrent-index-in-transaction',
      message: `${kind} cannot run inside a transaction block: Postgres stops the migration with "ERROR: ${kind === 'DETACH PARTITION CONCURRENTLY' ? 'ALTER TABLE ... DETACH CONCURRENTLY' : kind} cannot run inside a transaction block" and rolls back everything before it in the transaction.`,
      fix: `Move this statement out of BEGIN ... COMMIT (end the transaction with COMMIT before it), or into its own migration file that the runner does not wrap in a transaction.`,
    },
  ];
};
