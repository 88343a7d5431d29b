import { SymphonyError } from '../../errors.js';

/** A migration file could not be read or is of a kind the linter does not know. */
export class LintInputError extends SymphonyError {
  override readonly code = 'lint_input';
  constructor(readonly file: string, detail: string) {
    super(`cannot lint ${file}: ${detail}`, 'pass .sql files, or YAML/JSON migration files: symphony migrate lint <file>...');
  }
}
