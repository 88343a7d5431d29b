import { SymphonyError } from '../errors.js';
import type { StageConfig } from './spec.js';
import type { RunRecord } from './types.js';

export class ApprovalRefusedError extends SymphonyError {
  override readonly code: string = 'approval_refused';
}

/** Does `name` denote the commit's author (name, email, or the email's local part)? */
export function isAuthor(run: RunRecord, name: string): boolean {
  const n = name.trim().toLowerCase();
  const email = run.commit.authorEmail.toLowerCase();
  return n === run.commit.authorName.trim().toLowerCase() || n === email || n === email.split('@')[0];
}

/** Check a decision on a run's waiting approve stage; throws what the reviewer must know. Pure. */
export function checkDecision(run: RunRecord, stageConfig: StageConfig | undefined, by: string): void {
  const stage = run.stages.find((s) => s.status === 'waiting');
  if (run.status !== 'waiting' || !stage || !stageConfig?.approve) {
    throw new ApprovalRefusedError(`${run.id} is ${run.status}, not waiting for approval`, `see it with: symphony pipeline status ${run.id}`);
  }
  const a = stageConfig.approve;
  if (!a.reviewers.includes(by)) throw new ApprovalRefusedError(`${by} is not a reviewer of stage ${stage.name}; reviewers: ${a.reviewers.join(', ')}`, `decide as one of them: symphony pipeline approve ${run.id} --as <name>`);
  if (a.prevent_self_review && isAuthor(run, by)) {
    throw new ApprovalRefusedError(`${by} wrote commit ${run.commit.sha.slice(0, 12)} and stage ${stage.name} has prevent_self_review`, `ask another reviewer: ${a.reviewers.filter((x) => x !== by).join(', ') || '(none)'}`);
  }
}
