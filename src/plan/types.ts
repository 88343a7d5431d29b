import type { HealthCheck } from '../health/types.js';
import type { InstanceDraft, ReplaceMode } from '../kinds/types.js';
import type { InstanceRecord, ReleaseRecord, ServiceRecord, VolumeRecord } from '../state/types.js';

/** Deploy settings of a release, resolved to milliseconds. */
export interface DeployConfig {
  strategy: 'blue-green' | 'canary' | 'rolling' | 'recreate';
  replaceMode: ReplaceMode;
  drainMs: number;
  graceMs: number;
  warmMs: number;
  steps: number[];
  pauseMs: number;
  maxUnavailable: number;
  maxSurge: number;
  sticky: 'cookie' | 'hash' | null;
  analysis: { intervalMs: number; maxErrorRate: number; maxP99Ratio: number; p99ToleranceMs: number; minRequests: number } | null;
}

/** Everything that defines a release. Immutable once recorded; its hash is the release id. */
export interface ReleaseConfig {
  stack: string;
  /** Absolute directory of the stack file (relative paths in the spec are resolved against it). */
  stackDir: string;
  service: string;
  kind: string;
  runtime: string;
  /** Digest of the app's files (process runtime) or of the kind's version. */
  artifact: string;
  instances: InstanceDraft[];
  health: HealthCheck | null;
  deploy: DeployConfig;
  /** Stable ports of the service (kept across releases). */
  ports: Record<string, number>;
  volume: string | null;
  volumePath: string | null;
  /** HMAC digests of the secrets the release uses: a changed secret changes the release. */
  secretDigests: Record<string, string>;
  /** Secrets the kind generates on first apply (e.g. `db.password`). */
  generatedSecrets: string[];
  /** Raw service section, for kinds that need more at run time. */
  spec: Record<string, unknown>;
}

export type ChangeAction = 'create' | 'replace' | 'update' | 'destroy' | 'none';

export interface Change {
  service: string;
  kind: string;
  action: ChangeAction;
  reasons: string[];
  from: string | null;
  to: string | null;
  /** Create and replace: the rule the new release's health gate judges it by. */
  health?: string;
  /** Create and replace: where a volume outside the state dir lives, and why. */
  volume?: string;
  /** Create and replace: the instance that holds the service's clients while it restarts (a postgres service's pooler). */
  pooler?: string;
}

export type StepVerb =
  | 'volume' // create the service's volume directory (never deleted by a deploy)
  | 'release' // record the new immutable release
  | 'prepare' // kind-specific preparation (initdb…)
  | 'start' // start the new release's instances
  | 'health' // wait until they are healthy
  | 'switch' // make the new release current (route traffic to it)
  | 'canary' // shift traffic step by step, gated by the router's measurements
  | 'rolling' // replace replicas a batch at a time behind the router
  | 'migrate-start' // expand: start the next schema migration (old and new versions both served)
  | 'migrate-complete' // contract: after the old release is gone
  | 'drain' // let in-flight requests on the old release finish
  | 'stop-old' // stop the old release's instances
  | 'replace-in-place' // stop old then start new on the same volume (postgres)
  | 'roll' // cluster-rolling replacement, one member at a time
  | 'scale' // start missing / stop extra instances of the current release
  | 'stop' // stop every instance of a removed service
  | 'forget' // drop a removed service from the recorded state (volumes kept)
  | 'delete-volumes' // only for destroy --volumes
  | 'restore-stop' // restore: make recent WAL restorable, stop the server (src/backup/restore-steps.ts)
  | 'restore-aside' // restore: move the volume aside under a new name (kept, never deleted) and start a fresh one
  | 'restore-fetch'; // restore: fill the fresh volume from the backup repository

export interface PlanStep {
  /** Unique in the plan: `<service>:<verb>`; used by failpoints and progress. */
  name: string;
  service: string;
  verb: StepVerb;
  /** Release the step works on (new release for create/replace). */
  release: string | null;
  /** Release being replaced, when any. */
  previous: string | null;
  replicas?: number;
  /** `scale` steps: the count before, which an undo goes back to. */
  replicasBefore?: number;
  /** Migration version, for migrate-start / migrate-complete. */
  version?: string;
  /** Cluster roll: pause after this many members (`apply --pause-after N`, then `symphony resume`). */
  pauseAfter?: number;
  /** Restore steps: what to restore to and where the replaced volume is kept. */
  restore?: RestoreStep;
}

/** A restore's target and the name the replaced volume is kept under. */
export interface RestoreStep {
  target: { time: string } | { backup: string };
  /** Volume name and path the current volume is moved to (recorded as a volume, never deleted by a deploy). */
  aside: string;
  asidePath: string;
}

export interface PlanRoute {
  id: string;
  listen: number;
  host?: string;
  path?: string;
  timeoutMs?: number;
  service: string;
}

export interface Plan {
  format: 1;
  kind: 'apply' | 'destroy' | 'rollback' | 'restore' | 'scale';
  stack: string;
  env: string;
  stackFile: string;
  /** State serial the plan was made against; `apply <file>` refuses if it moved. */
  serial: number;
  changes: Change[];
  steps: PlanStep[];
  /** New releases to record, by id (config is secret-free: placeholders and digests only). */
  releases: Record<string, ReleaseConfig>;
  routes: PlanRoute[];
  /** Replica count per service. */
  replicas: Record<string, number>;
  deleteVolumes?: boolean;
}

/** What the planner knows of the world: recorded state and what was observed. */
export interface PlanState {
  serial: number;
  services: ServiceRecord[];
  releases: ReleaseRecord[];
  instances: InstanceRecord[];
  volumes: VolumeRecord[];
  /** Instance ids whose process runs now (from the runtime driver). */
  alive: string[];
  /** Stable ports of services forgotten by destroy whose volumes were kept, by service. */
  keptPorts?: Record<string, Record<string, number>>;
}

/** Migration file versions (base names, in order) of each postgres service with `migrations:`. */
export type MigrationVersions = Record<string, string[]>;
