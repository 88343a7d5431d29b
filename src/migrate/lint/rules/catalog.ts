import type { RuleInfo, StatementRule } from '../types.js';
import { concurrentInTransaction, requireConcurrentDropIndex, requireConcurrentIndex } from './indexes.js';
import { constraintWithoutNotValid, setNotNullWithoutCheck, uniqueWithoutIndex } from './constraints.js';
import { addColumnVolatileDefault, addNotNullColumnWithoutDefault, alterColumnTypeRewrite } from './columns.js';
import { dropColumn, dropTable, renames } from './breaking.js';
import { requireLockTimeout, truncateTable, vacuumFullOrCluster } from './maintenance.js';

/** Every rule the linter knows, in the order docs/migration-lint.md lists them. */
export const RULES: ReadonlyArray<RuleInfo> = [
  { name: 'require-concurrent-index', severity: 'error', summary: 'CREATE INDEX / REINDEX without CONCURRENTLY blocks writes for the whole build' },
  { name: 'require-concurrent-drop-index', severity: 'error', summary: 'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table' },
  { name: 'concurrent-index-in-transaction', severity: 'error', summary: 'CREATE/DROP INDEX CONCURRENTLY inside a transaction block fails' },
  { name: 'set-not-null-without-check', severity: 'error', summary: 'SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists' },
  { name: 'add-column-volatile-default', severity: 'error', summary: 'ADD COLUMN with a volatile default, serial, identity or stored generated value rewrites the table' },
  { name: 'add-not-null-column-without-default', severity: 'error', summary: 'ADD COLUMN NOT NULL without DEFAULT fails on a non-empty table and breaks old INSERTs' },
  { name: 'alter-column-type-rewrite', severity: 'error', summary: 'ALTER COLUMN TYPE rewrites the table unless the change is binary-coercible' },
  { name: 'require-lock-timeout', severity: 'error', summary: 'an ACCESS EXCLUSIVE lock requested with no lock_timeout can queue every query behind it' },
  { name: 'unique-constraint-without-index', severity: 'error', summary: 'ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under ACCESS EXCLUSIVE' },
  { name: 'constraint-without-not-valid', severity: 'error', summary: 'ADD FOREIGN KEY / CHECK without NOT VALID scans every row under lock' },
  { name: 'drop-table', severity: 'error', summary: 'DROP TABLE breaks the release still running and loses data' },
  { name: 'drop-column', severity: 'error', summary: 'DROP COLUMN breaks the release still running; use an expand/contract drop_column' },
  { name: 'rename-column', severity: 'error', summary: 'RENAME COLUMN breaks the release still running; use an expand/contract rename_column' },
  { name: 'rename-table', severity: 'error', summary: 'RENAME TABLE breaks the release still running; use an expand/contract rename_table' },
  { name: 'vacuum-full-or-cluster', severity: 'error', summary: 'VACUUM FULL / CLUSTER rewrite the table under ACCESS EXCLUSIVE' },
  { name: 'truncate-table', severity: 'error', summary: 'TRUNCATE deletes rows the running release relies on, under ACCESS EXCLUSIVE' },
  { name: 'syntax-error', severity: 'error', summary: 'the file does not parse as PostgreSQL; nothing in it was checked' },
];

/** The checks run on every statement, in order. */
export const STATEMENT_RULES: ReadonlyArray<StatementRule> = [
  requireLockTimeout,
  requireConcurrentIndex,
  requireConcurrentDropIndex,
  concurrentInTransaction,
  setNotNullWithoutCheck,
  addColumnVolatileDefault,
  addNotNullColumnWithoutDefault,
  alterColumnTypeRewrite,
  uniqueWithoutIndex,
  constraintWithoutNotValid,
  dropTable,
  dropColumn,
  renames,
  vacuumFullOrCluster,
  truncateTable,
];
