export { MigrationEngine, type EngineOptions, type MigrationStatus, type StartResult, type CompleteResult, type RollbackResult } from './engine.js';
export { loadMigrations, parseMigration } from './load.js';
export { planMigration, viewStatements, type MigrationPlan, type MovedAside } from './plan.js';
export { readLayout } from './catalog.js';
export type { Layout, TableLayout, ColumnLayout } from './layout.js';
export type { VersionRecord, VersionStatus } from './bookkeeping.js';
export { MigrationFileError, MigrationInFlightError, BackfillError, type MigrationFileIssue } from './errors.js';
export { versionSchemaName, baselineSchemaName, connectionOptionsFor, urlForVersion, asideName, BOOKKEEPING_SCHEMA } from './names.js';
export { OPERATION_KINDS, type Migration, type Operation, type OperationKind } from './operations.js';
