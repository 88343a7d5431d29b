/**
 * Typed errors. Every message says what happened, where, and the next thing to do.
 * `code` is stable and used by `--json` output and the agent's API.
 */
export class SymphonyError extends Error {
  readonly code: string = 'error';
  /** The next command or action for the user, printed after the message. */
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
  toJSON(): Record<string, unknown> {
    return { code: this.code, error: this.message, hint: this.hint };
  }
}

export interface SpecIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path such as `services.api.deploy.strategy`. */
  path: string;
  message: string;
}

/** The stack file is wrong. Carries every issue found, each with file, line and path. */
export class SpecError extends SymphonyError {
  override readonly code: string = 'spec_invalid';
  constructor(readonly issues: SpecIssue[]) {
    super(
      issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path ? i.path + ': ' : ''}${i.message}`).join('\n'),
      'fix the stack file, then run `symphony validate`',
    );
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

export interface LeaseInfo {
  id: string;
  holder: string;
  acquiredAt: string;
  expiresAt: string;
  operation?: string | null;
}

/** Someone else holds the environment's lock. */
export class LockHeldError extends SymphonyError {
  override readonly code: string = 'lock_held';
  constructor(readonly lease: LeaseInfo) {
    super(
      `the lock is held by ${lease.holder} (lease ${lease.id}, since ${lease.acquiredAt}, expires ${lease.expiresAt}` +
        (lease.operation ? `, operation ${lease.operation}` : '') +
        ')',
      `wait for it to finish (symphony status), or if the holder is gone: symphony unlock ${lease.id}`,
    );
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), lease: this.lease };
  }
}

/** The rule a health gate judged by and how to change it (a kind's `HealthRule`). */
export interface JudgedBy {
  rule: string;
  change: string;
}

export class HealthCheckTimeoutError extends SymphonyError {
  override readonly code: string = 'health_timeout';
  constructor(readonly instance: string, readonly waitedMs: number, readonly lastDetail: string, logFile?: string, readonly judgedBy?: JudgedBy) {
    super(
      `instance ${instance} did not become healthy within ${waitedMs} ms (last probe: ${lastDetail})` + (judgedBy ? `; judged by ${judgedBy.rule}` : ''),
      (logFile ? `look at its log: ${logFile}` : 'look at its log: symphony logs <service>') + (judgedBy ? `; to judge it differently: ${judgedBy.change}` : ''),
    );
  }
}

/** The state moved since a saved plan was made. */
export class StalePlanError extends SymphonyError {
  override readonly code: string = 'plan_stale';
  constructor(planSerial: number, stateSerial: number) {
    super(
      `the saved plan was made at state serial ${planSerial}, but the state is now at ${stateSerial}`,
      'make a new plan: symphony plan -o <file>, review it, then symphony apply <file>',
    );
  }
}

export class NotFoundError extends SymphonyError {
  override readonly code: string = 'not_found';
}

export class RuntimeError extends SymphonyError {
  override readonly code: string = 'runtime';
}

export class MigrationError extends SymphonyError {
  override readonly code: string = 'migration';
}

/** Convert anything thrown into a printable, serializable error. */
export function describeError(err: unknown): { code: string; error: string; hint?: string } & Record<string, unknown> {
  if (err instanceof SymphonyError) return err.toJSON() as { code: string; error: string; hint?: string };
  if (err instanceof Error) return { code: 'internal', error: err.message };
  return { code: 'internal', error: String(err) };
}
