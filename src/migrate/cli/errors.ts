import { SymphonyError } from '../../errors.js';

/** `symphony migrate` cannot tell which database or migration it should work on. */
export class MigrationTargetError extends SymphonyError {
  override readonly code: string = 'migrate_target';
}

/** The database of the target could not be reached. */
export class MigrationConnectError extends SymphonyError {
  override readonly code: string = 'migrate_connect';
  constructor(where: string, detail: string) {
    super(`cannot connect to ${where}: ${detail}`, 'check that the service is running and healthy: symphony status');
  }
}
