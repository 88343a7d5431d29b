import { setTimeout as sleep } from 'node:timers/promises';
import { computePlan } from '../../cli/planning.js';
import { describeError } from '../../errors.js';
import { assertRehearsed } from '../../rehearse/record.js';
import type { StageExecutor, StageRun } from './types.js';

const requesterOf = (r: StageRun): string => `pipeline ${r.run.id}/${r.stage.name}`;

/** After a crash between submitting and recording: the operation this stage submitted, by its holder. */
function submittedBefore(r: StageRun): string | null {
  const row = r.host.deps.store.db
    .prepare(`SELECT id FROM operations WHERE holder LIKE ? ORDER BY created_at DESC LIMIT 1`)
    .pluck()
    .get(`${requesterOf(r)} via %`) as string | undefined;
  return row ?? null;
}

/**
 * `deploy: <env>`: plan the environment from the commit's stack file with the
 * run's built artifacts (never rebuilt), hand the plan to the agent's
 * operations like `symphony apply`, and follow the operation. A failed deploy
 * is undone by the operation's own compensation.
 */
export const deployStage: StageExecutor = async (r) => {
  const env = r.config.deploy as string;
  const { deps, operations } = r.host;
  let opId = (r.stage.data.operation as string | undefined) ?? (r.resumed ? submittedBefore(r) : null);
  if (!opId) {
    const { plan, secrets } = await computePlan(r.stackFile, env === 'default' ? undefined : env, deps.stateDir, undefined, r.built);
    if (plan.steps.length === 0) return { status: 'succeeded', detail: `no change: ${env} already runs this commit's releases` };
    assertRehearsed(deps.stateDir, plan);
    const op = operations.submit({ plan, secrets, requester: requesterOf(r) });
    opId = op.id;
    const releases = Object.entries(plan.releases).map(([id, cfg]) => ({ id, service: cfg.service, artifact: cfg.artifact }));
    r.save({ operation: op.id, env, releases });
    r.io.log(`operation ${op.id} started: ${plan.changes.map((c) => `${c.action} ${c.service}${c.to ? ` -> ${c.to}` : ''}`).join(', ')}`);
  } else r.io.log(`following operation ${opId}`);
  for (;;) {
    const op = deps.journal.get(opId);
    if (!op) return { status: 'failed', detail: `operation ${opId} is not in the journal` };
    if (op.status === 'succeeded') {
      const data = r.store.run(r.run.id)?.stages[r.stage.seq].data ?? {};
      const releases = (data.releases as Array<{ id: string; service: string; artifact: string }> | undefined) ?? [];
      r.store.recordReleases(env, r.run.id, r.run.commit.sha, releases);
      return { status: 'succeeded', detail: `${env}: ${releases.map((x) => x.id).join(', ') || 'up to date'} (operation ${opId})` };
    }
    if (op.status === 'failed' || op.status === 'undone') return { status: 'failed', detail: `deploy to ${env} ${op.status}: ${op.error ?? 'no reason recorded'} (operation ${opId})` };
    if (r.io.signal.aborted) return { status: 'cancelled', detail: `cancelled; operation ${opId} goes on to its end (or its undo) by itself` };
    if (op.status === 'paused') return { status: 'failed', detail: `operation ${opId} paused; finish it with: symphony resume ${opId}` };
    await sleep(200);
  }
};

export function deployFailure(err: unknown): string {
  const e = describeError(err);
  return `${e.error}${e.hint ? ` (next: ${e.hint})` : ''}`;
}
