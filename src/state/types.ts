/** Rows of the state store, as the rest of Symphony sees them. */

export interface ServiceRecord {
  env: string;
  name: string;
  kind: string;
  currentRelease: string | null;
  previousRelease: string | null;
  ports: Record<string, number>;
  /** Postgres services: the last migration completed by Symphony (null before any). */
  schemaVersion?: string | null;
  updatedAt: string;
}

export type ReleaseStatus = 'pending' | 'live' | 'warm' | 'retired' | 'failed';

/** An immutable release: service + artifact digest + resolved config. Only `status` changes. */
export interface ReleaseRecord {
  id: string;
  env: string;
  service: string;
  configHash: string;
  config: unknown;
  status: ReleaseStatus;
  createdAt: string;
  /** Until when a warm release keeps running without traffic. */
  warmUntil: string | null;
}

export type InstanceStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'failed';

export interface InstanceRecord {
  id: string;
  env: string;
  service: string;
  release: string;
  ordinal: string;
  pid: number | null;
  startTime: number | null;
  port: number | null;
  status: InstanceStatus;
  restarts: number;
  lastExit: string | null;
  health: 'unknown' | 'healthy' | 'unhealthy';
  createdAt: string;
  updatedAt: string;
}

/** A route of an environment and the service it sends traffic to. */
export interface RouteRecord {
  env: string;
  id: string;
  service: string;
  listen: number;
  host: string | null;
  path: string | null;
}

export interface VolumeRecord {
  env: string;
  name: string;
  path: string;
  createdAt: string;
}

export type OperationStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'undone';

export interface OperationRecord {
  id: string;
  env: string;
  kind: string;
  status: OperationStatus;
  plan: unknown;
  holder: string;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type StepStatus = 'pending' | 'started' | 'done' | 'failed' | 'undone';

export interface StepRecord {
  operationId: string;
  seq: number;
  name: string;
  status: StepStatus;
  detail: unknown;
  error: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface EventRecord {
  seq: number;
  env: string;
  at: string;
  service: string | null;
  instance: string | null;
  kind: string;
  message: string;
}
