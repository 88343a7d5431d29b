import { statSync } from 'node:fs';
import { SymphonyError } from '../../errors.js';
import type { ClusterStatus } from '../../strategies/cluster-rolling/types.js';
import { runCheck } from './checks.js';
import { handoverValues, renderCheck, type CheckTemplate, type MemberLayout } from './layout.js';

/** A cluster action of the stack file (handover, snapshot) did not do what it must. */
export class ClusterActionError extends SymphonyError {
  override readonly code: string = 'cluster_action';
}

export interface ActionTarget {
  service: string;
  members: readonly MemberLayout[];
  values: Readonly<Record<string, string>>;
  cwd: string;
  status(): Promise<ClusterStatus>;
}

/**
 * Run the `handover` command for the heir, then wait (up to its timeout)
 * until the cluster is healthy and led by the heir. Throws, naming the
 * command's output or the leader seen, when it is not.
 */
export async function handOver(t: ActionTarget, action: CheckTemplate, to: string): Promise<void> {
  const before = await t.status();
  if (before.leader === to) return;
  const heir = t.members.find((m) => m.ordinal === to);
  const leader = t.members.find((m) => m.ordinal === before.leader);
  if (!heir || !leader) throw new ClusterActionError(`${t.service}: cannot hand leadership to ${to}: the cluster has no leader (${before.reason || 'none agreed'})`, 'check the cluster: symphony status');
  const r = await runCheck(renderCheck(action, handoverValues(heir, leader, t.values)), heir, t.cwd);
  if (!r.ok) {
    throw new ClusterActionError(`${t.service}: the handover command from ${leader.ordinal} to ${to} failed: ${r.detail}`, 'fix cluster.handover in the stack file (or remove it to replace the leader without a handover), then symphony apply');
  }
  const deadline = Date.now() + action.timeoutMs;
  let last = before;
  for (;;) {
    last = await t.status();
    if (last.healthy && last.leader === to) return;
    if (Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new ClusterActionError(
    `${t.service}: after the handover command the leader is ${last.leader ?? 'none'}, not ${to} (${last.reason || 'healthy'})`,
    'check what cluster.handover does (it runs for the member that is to lead), then symphony apply',
  );
}

/** Run the `snapshot` command; it must exit 0 and leave a non-empty file at the path. */
export async function takeSnapshot(t: ActionTarget, action: CheckTemplate, path: string): Promise<void> {
  const r = await runCheck(renderCheck(action, { ...t.values, snapshot_path: path }), null, t.cwd);
  if (!r.ok) throw new ClusterActionError(`${t.service}: the snapshot command failed: ${r.detail}`, 'fix cluster.snapshot in the stack file, then symphony apply');
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    size = -1;
  }
  if (size <= 0) {
    throw new ClusterActionError(`${t.service}: the snapshot command exited 0 but ${size < 0 ? 'wrote no file at' : 'left an empty file at'} ${path}`, 'make cluster.snapshot write its backup to {snapshot_path}, then symphony apply');
  }
}
