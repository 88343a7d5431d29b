import { SymphonyError } from '../../errors.js';

/** A postgres service cannot be prepared, started or changed as asked. */
export class PostgresKindError extends SymphonyError {
  override readonly code = 'postgres';
}
