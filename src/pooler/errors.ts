import { SymphonyError } from '../errors.js';

/** The pooler in front of a postgres server cannot hold, release or reach its clients as asked. */
export class PoolerError extends SymphonyError {
  override readonly code = 'pooler';
}
