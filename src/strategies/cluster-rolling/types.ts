import type { InstanceHandle, InstanceSpec } from '../../runtime/types.js';

/** What one member of a replicated cluster reports about itself. */
export interface MemberStatus {
  ordinal: string;
  /** The member answered at all. */
  reachable: boolean;
  /** The member's own health check passed (for etcd: `/health` says true). */
  healthy: boolean;
  isLeader: boolean;
  /** Id of the member this member believes is the leader; null when it knows none. */
  leaderId: string | null;
  /** The member's cluster-internal id (etcd member id); null when unknown. */
  memberId: string | null;
  /** Raft index this member has applied; null when unknown. */
  raftIndex: number | null;
  /** Human-readable summary of the last probe, for errors. */
  detail: string;
}

/** The whole cluster as seen at one moment. */
export interface ClusterStatus {
  /** Every member healthy, exactly one leader, and every member agrees on it. */
  healthy: boolean;
  /** Ordinal of the leader when the members agree on one, else null. */
  leader: string | null;
  /** Members whose own health check passed. */
  healthyCount: number;
  members: MemberStatus[];
  /** Why the cluster is not healthy (empty when healthy). */
  reason: string;
}

/** How the strategy observes and steers a cluster; implemented by a kind (e.g. EtcdCluster). */
export interface ClusterProbe {
  status(): Promise<ClusterStatus>;
  /** The member's applied state is within a small lag of the leader's. */
  caughtUp(ordinal: string): Promise<boolean>;
  /** Hand leadership over to the member with this ordinal. */
  moveLeader?(to: string): Promise<void>;
  /** Write a consistent snapshot of the cluster's data to `path`. */
  snapshot?(path: string): Promise<void>;
}

/** One member to replace: its running instance and the specs of its old and new version. */
export interface ClusterMember {
  ordinal: string;
  old: InstanceHandle;
  oldSpec: InstanceSpec;
  newSpec: InstanceSpec;
  /** The member's data directory; when given, the roll refuses to touch a member whose directory is missing. */
  volumePath?: string;
}

/** One step of a rolling cluster upgrade, as planned by `planClusterRoll`. */
export type RollStep =
  | { kind: 'snapshot' }
  | { kind: 'move-leader'; from: string; to: string }
  /** `leader`: the member led the cluster when the roll was planned. */
  | { kind: 'replace'; ordinal: string; leader: boolean };

/** Progress of a roll, for logs, the journal and benchmarks. `at` is `Date.now()`. */
export type RollEvent =
  | { type: 'snapshot'; at: number; path: string }
  | { type: 'move-leader'; at: number; from: string; to: string }
  | { type: 'stop'; at: number; ordinal: string }
  | { type: 'start'; at: number; ordinal: string; pid: number }
  | { type: 'rejoined'; at: number; ordinal: string }
  | { type: 'replaced'; at: number; ordinal: string }
  | { type: 'restore'; at: number; ordinal: string; reason: string }
  | { type: 'paused'; at: number; replaced: number; remaining: string[] };
