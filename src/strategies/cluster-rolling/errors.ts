import { SymphonyError } from '../../errors.js';
import type { InstanceHandle } from '../../runtime/types.js';

/** The cluster is not healthy enough to start (or continue) a rolling upgrade. */
export class ClusterUnhealthyError extends SymphonyError {
  override readonly code = 'cluster_unhealthy';
  constructor(readonly service: string, readonly reason: string, readonly phase: 'start' | 'between members') {
    super(
      `refusing to roll ${service}: the cluster is not healthy at ${phase} (${reason})`,
      'bring every member back (symphony status, symphony logs ' + service + '), then run the apply again',
    );
  }
}

/** A member to roll is not part of the cluster, or the plan's input is inconsistent. */
export class ClusterRollInputError extends SymphonyError {
  override readonly code = 'cluster_roll_input';
}

/** A member's data directory is gone: starting it would create an empty member. */
export class MemberVolumeMissingError extends SymphonyError {
  override readonly code = 'member_volume_missing';
  constructor(readonly ordinal: string, readonly path: string) {
    super(
      `member ${ordinal}: its data directory ${path} does not exist; replacing it would start an empty member`,
      'restore the directory from a backup (symphony backups) or remove and re-add the member by hand; nothing was changed',
    );
  }
}

export interface MemberReplaceFailure {
  ordinal: string;
  /** What went wrong with the new version (last probe detail, exit, timeout). */
  why: string;
  /** Log file of the failed new instance. */
  logFile: string;
  /** The member runs its old version again and the cluster is healthy. */
  restored: boolean;
  /** Why putting the old version back failed, when it did. */
  restoreProblem?: string;
  /** The member's instance after the rollback (record it: the old handle is gone). */
  restoredHandle?: InstanceHandle;
  /** Members replaced before this one, which stay on the new version. */
  replaced: Array<{ ordinal: string; handle: InstanceHandle }>;
}

/** A member did not come back healthy on the new version; it was put back on the old one (when `restored`). */
export class MemberReplaceError extends SymphonyError {
  override readonly code = 'member_replace_failed';
  constructor(readonly failure: MemberReplaceFailure) {
    const f = failure;
    super(
      `member ${f.ordinal} did not rejoin on the new version: ${f.why}; ` +
        (f.restored
          ? `it was put back on its old version and the cluster is healthy again (${f.replaced.length} member(s) replaced before it stay on the new version)`
          : `putting it back on its old version failed too (${f.restoreProblem ?? 'unknown'})`),
      f.restored
        ? `read its log: ${f.logFile}, fix the new version, then run symphony apply again`
        : `the cluster is degraded: read ${f.logFile}, start the member by hand, then run symphony status`,
    );
  }
  override toJSON(): Record<string, unknown> {
    const { restoredHandle: _h, replaced, ...rest } = this.failure;
    return { ...super.toJSON(), ...rest, replaced: replaced.map((r) => r.ordinal) };
  }
}
