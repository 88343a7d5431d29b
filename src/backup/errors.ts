import { SymphonyError } from '../errors.js';

/** A backup, restore or verification failed, or was asked for something that cannot be. */
export class BackupError extends SymphonyError {
  override readonly code: string = 'backup_failed';
  constructor(
    readonly service: string,
    message: string,
    hint?: string,
  ) {
    super(`${service}: ${message}`, hint);
  }
}
