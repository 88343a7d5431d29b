import { ClusterRollInputError, ClusterUnhealthyError } from './errors.js';
import type { ClusterStatus, MemberStatus, RollStep } from './types.js';

/** Order ordinals as people count them: m2 before m10. */
export function byOrdinal(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Judge a cluster from its members' reports: healthy when every member is
 * healthy, exactly one member is leader, and every member names that leader.
 */
export function judgeCluster(members: MemberStatus[]): ClusterStatus {
  const sorted = [...members].sort((a, b) => byOrdinal(a.ordinal, b.ordinal));
  const healthyCount = sorted.filter((m) => m.healthy).length;
  const leaders = sorted.filter((m) => m.isLeader);
  const problems: string[] = [];
  for (const m of sorted) {
    if (!m.reachable) problems.push(`member ${m.ordinal} unreachable (${m.detail})`);
    else if (!m.healthy) problems.push(`member ${m.ordinal} unhealthy (${m.detail})`);
  }
  let leader: string | null = null;
  if (leaders.length === 0) problems.push('no leader');
  else if (leaders.length > 1) problems.push(`several leaders: ${leaders.map((m) => m.ordinal).join(', ')}`);
  else {
    const l = leaders[0];
    const dissent = sorted.filter((m) => m.reachable && m.leaderId !== l.memberId);
    if (dissent.length > 0) problems.push(`members ${dissent.map((m) => m.ordinal).join(', ')} disagree on the leader`);
    else leader = l.ordinal;
  }
  if (sorted.length === 0) problems.push('no members');
  return { healthy: problems.length === 0, leader, healthyCount, members: sorted, reason: problems.join('; ') };
}

export interface RollCapabilities {
  /** The kind can hand leadership over (a `move-leader` step precedes the leader's replacement). */
  moveLeader: boolean;
  /** The kind can snapshot the cluster (a `snapshot` step comes first). */
  snapshot: boolean;
}

/**
 * Steps to replace `ordinals` (a subset of the cluster's members) one at a
 * time: followers first in ordinal order, the leader last; before the leader,
 * leadership moves to the first other member in ordinal order (already
 * replaced or outside this roll). Throws ClusterUnhealthyError unless the
 * cluster is healthy.
 */
export function planClusterRoll(service: string, status: ClusterStatus, ordinals: string[], caps: RollCapabilities): RollStep[] {
  if (!status.healthy || status.leader === null) throw new ClusterUnhealthyError(service, status.reason || 'no leader', 'start');
  const known = new Set(status.members.map((m) => m.ordinal));
  const unknown = ordinals.filter((o) => !known.has(o));
  if (unknown.length > 0) {
    throw new ClusterRollInputError(
      `cannot roll ${service}: members ${unknown.join(', ')} are not in the cluster (members: ${[...known].join(', ')})`,
      'run symphony plan again: the recorded members and the running cluster differ',
    );
  }
  if (new Set(ordinals).size !== ordinals.length) {
    throw new ClusterRollInputError(`cannot roll ${service}: a member is listed twice (${ordinals.join(', ')})`);
  }
  const leader = status.leader;
  const steps: RollStep[] = caps.snapshot && ordinals.length > 0 ? [{ kind: 'snapshot' }] : [];
  const followers = ordinals.filter((o) => o !== leader).sort(byOrdinal);
  for (const o of followers) steps.push({ kind: 'replace', ordinal: o, leader: false });
  if (ordinals.includes(leader)) {
    const heir = status.members.map((m) => m.ordinal).find((o) => o !== leader);
    if (caps.moveLeader && heir !== undefined) steps.push({ kind: 'move-leader', from: leader, to: heir });
    steps.push({ kind: 'replace', ordinal: leader, leader: true });
  }
  return steps;
}
