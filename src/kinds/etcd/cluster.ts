import { setTimeout as sleep } from 'node:timers/promises';
import { judgeCluster } from '../../strategies/cluster-rolling/plan.js';
import type { ClusterProbe, ClusterStatus, MemberStatus } from '../../strategies/cluster-rolling/types.js';
import { etcdCall, EtcdRequestError, probeMember, saveSnapshot } from './gateway.js';

/** The fields of etcd's `/v3/maintenance/status` answer that matter here (64-bit numbers are strings). */
interface MaintenanceStatus {
  header: { member_id: string };
  leader: string;
  raftIndex: string;
  raftAppliedIndex: string;
  raftTerm: string;
  version: string;
}

interface Reading {
  ordinal: string;
  url: string;
  status: MaintenanceStatus | null;
  member: MemberStatus;
}

export interface EtcdClusterOptions {
  /** Per-request timeout (default 1 s). */
  timeoutMs?: number;
  /** How many Raft entries a member may trail the leader's commit index and still count as caught up (default 16). */
  maxLag?: number;
  /** How long `moveLeader` waits for the new leader to be in place (default 10 s). */
  moveTimeoutMs?: number;
}

/**
 * A running etcd cluster seen through its members' HTTP gateways: health,
 * leader, Raft progress, leadership transfer and snapshots.
 */
export class EtcdCluster implements ClusterProbe {
  private readonly timeoutMs: number;
  private readonly maxLag: number;
  private readonly moveTimeoutMs: number;

  /** `endpoints`: client URL of each member by ordinal, e.g. `{ m0: 'http://127.0.0.1:2379' }`. */
  constructor(private readonly endpoints: Record<string, string>, opts: EtcdClusterOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.maxLag = opts.maxLag ?? 16;
    this.moveTimeoutMs = opts.moveTimeoutMs ?? 10_000;
  }

  async status(): Promise<ClusterStatus> {
    const readings = await this.readAll();
    return judgeCluster(readings.map((r) => r.member));
  }

  async caughtUp(ordinal: string): Promise<boolean> {
    const readings = await this.readAll();
    const leader = readings.find((r) => r.member.isLeader);
    if (!leader) return false;
    const fresh = await this.read(leader.ordinal, leader.url);
    const target = await this.read(ordinal, this.url(ordinal));
    if (!fresh.status || !target.status || !target.member.healthy) return false;
    return Number(target.status.raftAppliedIndex) + this.maxLag >= Number(fresh.status.raftIndex);
  }

  async moveLeader(to: string): Promise<void> {
    const readings = await this.readAll();
    const leader = readings.find((r) => r.member.isLeader);
    const target = readings.find((r) => r.ordinal === to);
    if (!target?.member.memberId) throw new EtcdRequestError(this.url(to), `member ${to} does not answer, cannot hand leadership to it`);
    if (!leader) throw new EtcdRequestError(this.url(to), 'the cluster has no leader to hand over from');
    if (leader.ordinal === to) return;
    const url = `${leader.url}/v3/maintenance/transfer-leadership`;
    await etcdCall(url, { targetID: target.member.memberId }, this.moveTimeoutMs);
    const deadline = Date.now() + this.moveTimeoutMs;
    for (;;) {
      const s = await this.status();
      if (s.healthy && s.leader === to) return;
      if (Date.now() > deadline) throw new EtcdRequestError(url, `leadership did not reach ${to} within ${this.moveTimeoutMs} ms (${s.reason || `leader is ${s.leader}`})`);
      await sleep(50);
    }
  }

  async snapshot(path: string): Promise<void> {
    const readings = await this.readAll();
    const source = readings.find((r) => r.member.healthy && !r.member.isLeader) ?? readings.find((r) => r.member.healthy);
    if (!source) throw new EtcdRequestError(Object.values(this.endpoints).join(','), 'no healthy member to take a snapshot from');
    await saveSnapshot(source.url, path, 120_000);
  }

  private url(ordinal: string): string {
    const url = this.endpoints[ordinal];
    if (url === undefined) throw new EtcdRequestError(ordinal, `no member ${ordinal} (members: ${Object.keys(this.endpoints).join(', ')})`);
    return url;
  }

  private readAll(): Promise<Reading[]> {
    return Promise.all(Object.entries(this.endpoints).map(([ordinal, url]) => this.read(ordinal, url)));
  }

  private async read(ordinal: string, url: string): Promise<Reading> {
    const [health, status] = await Promise.all([
      probeMember(url),
      etcdCall<MaintenanceStatus>(`${url}/v3/maintenance/status`, {}, this.timeoutMs).catch((err: unknown) => err as Error),
    ]);
    const st = status instanceof Error ? null : status;
    const leaderId = st && st.leader !== '0' && st.leader !== '' ? st.leader : null;
    const memberId = st?.header.member_id ?? null;
    const member: MemberStatus = {
      ordinal,
      reachable: st !== null || health.ok,
      healthy: health.ok && st !== null,
      isLeader: memberId !== null && leaderId === memberId,
      leaderId,
      memberId,
      raftIndex: st ? Number(st.raftAppliedIndex) : null,
      detail: st ? `${health.detail}, version ${st.version}, term ${st.raftTerm}, applied ${st.raftAppliedIndex}` : health.detail,
    };
    return { ordinal, url, status: st, member };
  }
}
