import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Plan, PlanStep } from '../plan/types.js';
import { LeaseStore } from '../state/lease.js';
import type { OperationRecord, StepRecord } from '../state/types.js';
import type { ExecDeps } from './context.js';
import { IRREVERSIBLE, doStep, undoStep } from './verbs.js';
import { pruneSnapshots, snapshotsInUse } from './snapshot.js';
import { RollPaused } from './roll.js';

export interface Outcome {
  status: 'succeeded' | 'failed' | 'undone' | 'paused';
  error?: string;
}

/** Exit abruptly at a named failpoint, once per state dir (so the recovering agent gets past it). */
export function failpoint(deps: ExecDeps, name: string): void {
  if (!deps.failpoints.has(name)) return;
  const fired = join(deps.stateDir, 'failpoints.fired');
  if (existsSync(fired) && readFileSync(fired, 'utf8').split('\n').includes(name)) return;
  const fd = openSync(fired, 'a');
  writeSync(fd, name + '\n');
  fsyncSync(fd);
  closeSync(fd);
  deps.log.warn({ failpoint: name }, 'failpoint reached: exiting abruptly');
  deps.log.flush?.();
  process.kill(process.pid, 'SIGKILL');
}

/**
 * Run (or resume) an operation: each step is journaled before it starts and
 * when it ends; done steps are skipped, so a crashed operation resumes where
 * it stopped. A failure undoes what can be undone — per service, every service
 * ends fully on its old or fully on its new release — and records why.
 */
export async function runOperation(deps: ExecDeps, op: OperationRecord, leaseId: string): Promise<Outcome> {
  const { journal, store } = deps;
  const plan = op.plan as Plan;
  const leases = new LeaseStore(store);
  const beat = setInterval(() => leases.heartbeat(plan.env, leaseId), 5_000);
  const say = (line: string): void => deps.progress(op.id, line);
  try {
    for (const rec of journal.steps(op.id)) {
      if (rec.status === 'done') continue;
      const step = plan.steps[rec.seq];
      journal.stepStarted(op.id, rec.seq);
      say(`step ${rec.seq + 1}/${plan.steps.length} ${step.name} started`);
      failpoint(deps, `${step.name}:before`);
      let detail: unknown;
      try {
        detail = await doStep({ deps, plan, step });
      } catch (err) {
        if (err instanceof RollPaused) {
          journal.pause(op.id, rec.seq, { replaced: err.replaced, remaining: err.remaining });
          say(`operation paused at ${step.name}: ${err.message}; continue with: symphony resume ${op.id}`);
          return { status: 'paused', error: err.message };
        }
        const msg = describeError(err);
        journal.stepEnded(op.id, rec.seq, 'failed', undefined, msg.error);
        say(`step ${step.name} failed: ${msg.error}`);
        const outcome = await compensate(deps, op, plan, step);
        const error = `${step.name}: ${msg.error}${msg.hint ? ` (${msg.hint})` : ''}`;
        journal.finish(op.id, outcome, error);
        store.bumpSerial();
        say(`operation ${outcome}: ${error}`);
        return { status: outcome, error };
      }
      failpoint(deps, step.name);
      journal.stepEnded(op.id, rec.seq, 'done', detail);
      say(`step ${rec.seq + 1}/${plan.steps.length} ${step.name} done`);
    }
    journal.finish(op.id, 'succeeded');
    store.bumpSerial();
    say('operation succeeded');
    return { status: 'succeeded' };
  } finally {
    clearInterval(beat);
    pruneOldSnapshots(deps);
    leases.release(plan.env, leaseId);
  }
}

/** Undo done steps, newest first, for every service that has not passed its point of no return. */
async function compensate(deps: ExecDeps, op: OperationRecord, plan: Plan, failed: PlanStep): Promise<'undone' | 'failed'> {
  // The failed step is undone too (it may have half-happened); every undo is idempotent.
  const done = deps.journal.steps(op.id).filter((s: StepRecord) => s.status === 'done' || (s.status === 'failed' && plan.steps[s.seq] === failed));
  const byService = new Map<string, StepRecord[]>();
  for (const s of done) byService.set(plan.steps[s.seq].service, [...(byService.get(plan.steps[s.seq].service) ?? []), s]);
  let all = true;
  const failedReversible = !(byService.get(failed.service) ?? []).some((s) => IRREVERSIBLE.has(plan.steps[s.seq].verb) && plan.steps[s.seq] !== failed) && !IRREVERSIBLE.has(failed.verb);
  for (const [service, steps] of byService) {
    const reversible = !steps.some((s) => IRREVERSIBLE.has(plan.steps[s.seq].verb));
    if (!reversible || (!failedReversible && service !== failed.service)) {
      all = false;
      continue;
    }
    for (const s of [...steps].reverse()) {
      try {
        await undoStep({ deps, plan, step: plan.steps[s.seq] });
        deps.journal.stepEnded(op.id, s.seq, 'undone');
      } catch (err) {
        all = false;
        deps.log.error({ step: plan.steps[s.seq].name, err: describeError(err) }, 'undo failed');
      }
    }
  }
  return all && failedReversible ? 'undone' : 'failed';
}

/** Drop copies of app files that no kept release needs any more; never fails an operation. */
function pruneOldSnapshots(deps: ExecDeps): void {
  try {
    const removed = pruneSnapshots(deps.stateDir, snapshotsInUse(deps.store));
    if (removed.length > 0) deps.log.info({ removed: removed.map((d) => d.slice(0, 8)) }, 'removed old release file copies');
  } catch (err) {
    deps.log.warn({ err: describeError(err).error }, 'could not prune old release file copies');
  }
}
