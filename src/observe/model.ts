import type { InstanceUsage } from '../runtime/types.js';

/**
 * What the agent sees of a state dir at one moment, as plain data: the input of the
 * pure collectors (./collect.ts, ./figures.ts). ./gather.ts reads it from the state
 * store, the router and the runtime driver. No secret value is ever part of it.
 */
export interface Observation {
  /** Unix time (ms) the observation was taken. */
  at: number;
  instances: ObservedInstance[];
  services: ObservedService[];
  http: HttpTotals;
  operations: FinishedOperation[];
  backups: BackupSuccess[];
  /** Pipeline runs by status (none when the pipeline never ran). */
  pipelineRuns: Array<{ status: string; count: number }>;
}

/** An instance that is recorded and not stopped (running, starting, crashed…). */
export interface ObservedInstance {
  env: string;
  service: string;
  release: string;
  instance: string;
  status: string;
  alive: boolean;
  healthy: boolean;
  restarts: number;
  /** Null when its process does not run or the driver cannot measure it. */
  usage: InstanceUsage | null;
}

export interface ObservedService {
  env: string;
  service: string;
  release: string | null;
  /** Instances of the current release recorded to run. */
  desired: number;
  /** Of those, the ones whose process runs and whose health is healthy. */
  ready: number;
}

/** The router's cumulative counters, each release mapped to its service. */
export interface HttpTotals {
  /** Upper bounds of the latency buckets, seconds. */
  bucketsS: number[];
  releases: ReleaseHttp[];
  /** Per release over the router's recent window (for `symphony metrics`). */
  window: ReleaseWindow[];
  windowS: number;
}

export interface ReleaseHttp {
  env: string;
  service: string;
  release: string;
  requests: number;
  byCode: Record<string, number>;
  /** Requests per bucket, not cumulative. */
  buckets: number[];
  latencySumS: number;
}

export interface ReleaseWindow {
  env: string;
  service: string;
  release: string;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface FinishedOperation {
  kind: string;
  status: string;
  durationS: number;
}

export interface BackupSuccess {
  env: string;
  service: string;
  /** Unix time (seconds) the newest backup was taken. */
  at: number;
}

/** One series of a counter or gauge. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a histogram, buckets not cumulative (the registry accumulates them). */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: number[];
  count: number;
  sum: number;
}

export type Family =
  | { type: 'counter' | 'gauge'; name: string; help: string; labelNames: string[]; samples: Sample[] }
  | { type: 'histogram'; name: string; help: string; labelNames: string[]; bucketsS: number[]; series: HistogramSeries[] };
