import { SymphonyError } from '../errors.js';

/** A stage of a rehearsal failed; the copy was torn down unless asked to keep it. */
export class RehearsalError extends SymphonyError {
  override readonly code: string = 'rehearsal_failed';
  constructor(
    readonly rehearsal: string,
    readonly stage: string,
    message: string,
    hint?: string,
  ) {
    super(`rehearsal ${rehearsal} failed at ${stage}: ${message}`, hint);
  }
}

/** `apply` of an environment with `require_rehearsal: true` and no passed rehearsal of this plan. */
export class RehearsalRequiredError extends SymphonyError {
  override readonly code: string = 'rehearsal_required';
  constructor(env: string, digest: string, last: { id: string; digest: string; passed: boolean; at: string } | null) {
    const envFlag = env === 'default' ? '' : ` --env ${env}`;
    const seen = last
      ? `; the last rehearsal (${last.id} at ${last.at}) ${last.passed ? `passed for another plan (${last.digest})` : 'failed'}`
      : '; no rehearsal was recorded for it';
    super(
      `environment ${env} requires a passed rehearsal of this plan (digest ${digest}) before apply${seen}`,
      `rehearse it first: symphony rehearse${envFlag} (or symphony rehearse${envFlag} <planfile>), then run apply again`,
    );
  }
}

/** The copy could not be removed completely: something of it is still there. */
export class TeardownError extends SymphonyError {
  override readonly code: string = 'rehearsal_teardown';
}
