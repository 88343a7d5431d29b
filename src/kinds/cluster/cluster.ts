import type { ProbeResult } from '../../health/types.js';
import { judgeCluster } from '../../strategies/cluster-rolling/plan.js';
import type { ClusterProbe, ClusterStatus, MemberStatus } from '../../strategies/cluster-rolling/types.js';
import { handOver, takeSnapshot } from './actions.js';
import { portOpen, readLeader, runCheck } from './checks.js';
import { ClusterConfigError, clusterValues, memberValues, renderCheck, type ClusterSettings, type MemberLayout } from './layout.js';

interface Reading {
  member: MemberStatus;
  /** What the leader check said when it named no member. */
  leaderProblem: string | null;
}

/**
 * A running cluster of the generic kind, seen through the checks of its stack
 * file: per-member health, an optional whole-cluster check, and an optional
 * leader check run on every member (they must all name the same member).
 *
 * Without a leader check the cluster has no leader to protect: the last
 * member stands in as one, so members are replaced in ordinal order and
 * nothing is handed over. With `handover` / `snapshot` commands the probe
 * offers `moveLeader` / `snapshot` to the rolling strategy.
 */
export class GenericCluster implements ClusterProbe {
  private readonly values: Record<string, string>;
  /** Present only when the stack file gives `handover` (the strategy hands over only when it can). */
  readonly moveLeader?: (to: string) => Promise<void>;
  /** Present only when the stack file gives `snapshot`. */
  readonly snapshot?: (path: string) => Promise<void>;

  constructor(
    private readonly service: string,
    private readonly members: readonly MemberLayout[],
    private readonly settings: ClusterSettings,
    /** Working directory of exec checks (the stack file's directory). */
    private readonly cwd: string,
  ) {
    this.values = clusterValues(members, settings);
    const target = { service, members, values: this.values, cwd, status: () => this.status() };
    const { handover, snapshot } = settings;
    if (handover) this.moveLeader = (to) => handOver(target, handover, to);
    if (snapshot) this.snapshot = (path) => takeSnapshot(target, snapshot, path);
  }

  async status(): Promise<ClusterStatus> {
    const whole = this.settings.clusterHealth ? runCheck(renderCheck(this.settings.clusterHealth, this.values), null, this.cwd) : null;
    const readings = await Promise.all(this.members.map((m) => this.read(m)));
    const judged = judgeCluster(readings.map((r) => r.member));
    const problems = judged.reason === '' ? [] : [judged.reason];
    const leaderProblems = readings.filter((r) => r.leaderProblem !== null).map((r) => `${r.member.ordinal}: ${r.leaderProblem}`);
    if (leaderProblems.length > 0) problems.push(`leader check: ${leaderProblems.join(', ')}`);
    const wholeResult = await whole;
    if (wholeResult && !wholeResult.ok) problems.push(`cluster check failed: ${wholeResult.detail}`);
    return { ...judged, healthy: problems.length === 0, reason: problems.join('; ') };
  }

  /** With a `caught_up` check: it exits 0 on the member; without one: the member is healthy. */
  async caughtUp(ordinal: string): Promise<boolean> {
    const m = this.member(ordinal);
    const check = this.settings.caughtUp ?? this.settings.health;
    return (await runCheck(renderCheck(check, memberValues(m, this.values)), m, this.cwd)).ok;
  }

  /** The health check of one member. */
  probeMember(ordinal: string): Promise<ProbeResult> {
    const m = this.member(ordinal);
    return runCheck(renderCheck(this.settings.health, memberValues(m, this.values)), m, this.cwd);
  }

  private member(ordinal: string): MemberLayout {
    const m = this.members.find((x) => x.ordinal === ordinal);
    if (!m) {
      throw new ClusterConfigError(this.service, `no member ${ordinal} (members: ${this.members.map((x) => x.ordinal).join(', ')})`, 'run symphony plan again: the recorded members and the stack file differ');
    }
    return m;
  }

  private async read(m: MemberLayout): Promise<Reading> {
    const values = memberValues(m, this.values);
    const health = await runCheck(renderCheck(this.settings.health, values), m, this.cwd);
    const reachable = health.ok || (await portOpen(m, this.settings.ports[0], this.settings.health.timeoutMs));
    let leaderId: string | null = null;
    let leaderProblem: string | null = null;
    let detail = health.detail;
    if (!this.settings.leader) {
      leaderId = reachable ? this.members[this.members.length - 1].ordinal : null;
    } else if (reachable) {
      const said = await readLeader(renderCheck(this.settings.leader, values), this.members, this.cwd);
      leaderId = said.ordinal;
      if (said.ordinal === null) leaderProblem = said.detail;
      detail = `${detail}; ${said.detail}`;
    }
    const member: MemberStatus = { ordinal: m.ordinal, reachable, healthy: health.ok, isLeader: leaderId === m.ordinal, leaderId, memberId: m.ordinal, raftIndex: null, detail };
    return { member, leaderProblem };
  }
}
