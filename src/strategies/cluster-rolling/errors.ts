import { SymphonyError } from '../../errors.js';

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

/** A member did not come back healthy on the new version; it was put back on the old one (when `restored`). */
export class MemberReplaceError extends SymphonyError {
  override readonly code = 'member_replace_failed';
  constructor(
    readonly ordinal: string,
    readonly why: string,
    readonly logFile: string,
    readonly restored: boolean,
    readonly restoreProblem?: string,
  ) {
    super(
      `member ${ordinal} did not rejoin on the new version: ${why}; ` +
        (restored
          ? 'it was put back on its old version and the cluster is healthy again; the other members were not touched'
          : `putting it back on its old version failed too (${restoreProblem ?? 'unknown'})`),
      restored
        ? `read its log: ${logFile}, fix the new version, then run the apply again`
        : `the cluster is degraded: read ${logFile}, start the member by hand, then run symphony status`,
    );
  }
}
