import { MigrationError, SymphonyError } from '../errors.js';

export interface MigrationFileIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path such as `operations.2.add_column.column.type`. */
  path: string;
  message: string;
}

/** A migration file is malformed. Carries every issue with file, line and path. */
export class MigrationFileError extends SymphonyError {
  override readonly code = 'migration_file_invalid';
  constructor(readonly issues: MigrationFileIssue[]) {
    super(
      issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path ? i.path + ': ' : ''}${i.message}`).join('\n'),
      'fix the migration file, then run `symphony migrate lint`',
    );
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** Another migration is in flight on this database. */
export class MigrationInFlightError extends MigrationError {
  constructor(readonly inFlight: string, wanted: string) {
    super(
      `cannot start migration ${wanted}: migration ${inFlight} is in flight on this database`,
      `finish it first: symphony migrate complete (after the old release is gone) or symphony migrate rollback`,
    );
  }
}

/** The `up`/`down` expression of an operation failed on one row during backfill. */
export class BackfillError extends MigrationError {
  constructor(readonly migration: string, readonly table: string, readonly key: string, detail: string) {
    super(
      `migration ${migration}: backfill of table ${table} failed on row ${key}: ${detail}; the migration was undone and no data changed`,
      `fix the \`up\` expression (or the row), then run symphony migrate start again`,
    );
  }
}
