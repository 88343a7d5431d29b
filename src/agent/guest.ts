import { Cron } from 'croner';
import type { ExecDeps } from '../apply/context.js';
import { describeError } from '../errors.js';
import type { Route } from './http.js';
import type { Operations } from './operations.js';

/** A job a guest put on the agent's clock. */
export interface ScheduledJob {
  readonly name: string;
  readonly pattern: string;
  /** When it runs next (null once stopped). */
  next(): Date | null;
  stop(): void;
}

/** What the agent hands a guest capability (the pipeline, backups…) when it starts. */
export interface GuestContext {
  deps: ExecDeps;
  operations: Operations;
  /**
   * Run `job` on a cron pattern (croner, local time) until it is stopped or the
   * agent stops. A run still going when the next is due makes that one skip;
   * a failing run is logged and the schedule goes on.
   */
  schedule(name: string, pattern: string, job: () => Promise<void>): ScheduledJob;
}

/**
 * A capability that lives in the agent without being agent code: it adds
 * routes to the control API, is started after recovery and stopped before
 * the store closes. Everything else about it lives in its own folder.
 */
export interface AgentGuest {
  name: string;
  routes?: Route[];
  start?(ctx: GuestContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export type GuestFactory = () => AgentGuest;

/** The context every guest gets, with one clock for all of them, stopped at once when the agent stops. */
export function guestContext(deps: ExecDeps, operations: Operations): { ctx: GuestContext; stopJobs(): void } {
  const jobs = new Set<Cron>();
  const ctx: GuestContext = {
    deps,
    operations,
    schedule(name, pattern, job) {
      const cron = new Cron(pattern, { protect: true }, async () => {
        try {
          await job();
        } catch (err) {
          deps.log.error({ job: name, err: describeError(err).error }, 'scheduled job failed');
        }
      });
      jobs.add(cron);
      return {
        name,
        pattern,
        next: () => cron.nextRun(),
        stop: () => {
          cron.stop();
          jobs.delete(cron);
        },
      };
    },
  };
  return {
    ctx,
    stopJobs: () => {
      for (const c of jobs) c.stop();
      jobs.clear();
    },
  };
}
