import { parseDuration } from '../../util/duration.js';
import type { Decision, StageExecutor } from './types.js';

/**
 * `approve:` waits for one of the reviewers (`symphony pipeline approve|reject`).
 * The deadline is recorded when the wait starts, so an agent restart keeps
 * waiting until the same moment; past it the run ends as rejected.
 */
export const approveStage: StageExecutor = async (r) => {
  const spec = r.config.approve!;
  const deadline = typeof r.stage.data.deadline === 'string' ? Date.parse(r.stage.data.deadline) : Date.now() + parseDuration(spec.timeout, 24 * 3_600_000);
  r.save({ deadline: new Date(deadline).toISOString(), reviewers: spec.reviewers });
  r.markWaiting(`waiting for ${spec.reviewers.join(' or ')} until ${new Date(deadline).toISOString()}: symphony pipeline approve ${r.run.id} --as <name>`);
  const recorded = r.stage.data.decision as Decision | undefined;
  const d = recorded ?? (await r.waitDecision(deadline));
  if (!d) {
    if (r.io.signal.aborted) return { status: 'cancelled', detail: 'cancelled while waiting for approval' };
    return { status: 'rejected', detail: `no reviewer decided before ${new Date(deadline).toISOString()}: timed out` };
  }
  r.io.log(`${d.decision} by ${d.by} at ${d.at}${d.reason ? `: ${d.reason}` : ''}`);
  if (d.decision === 'approve') return { status: 'succeeded', detail: `approved by ${d.by} at ${d.at}` };
  return { status: 'rejected', detail: `rejected by ${d.by} at ${d.at}${d.reason ? `: ${d.reason}` : ''}` };
};
