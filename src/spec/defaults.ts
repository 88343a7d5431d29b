import type { HealthCheck } from '../health/types.js';
import { parseDuration } from '../util/duration.js';
import type { Deploy, Health } from './schema.js';

/** What an omitted key means. The planner relies on these; docs/stack-file.md lists them. */
export const DEFAULTS = {
  replicas: 1,
  runtime: 'process',
  deploy: {
    strategy: 'blue-green',
    drainMs: 10_000,
    graceMs: 10_000,
    warmMs: 300_000,
    steps: [10, 50, 100],
    pauseMs: 30_000,
    maxUnavailable: 0,
    maxSurge: 1,
  },
  health: {
    startTimeoutMs: 60_000,
    intervalMs: 1_000,
    timeoutMs: 2_000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    /** An app without `health:` is healthy when its PORT accepts TCP connections. */
    probe: 'tcp',
  },
} as const;

/** A deploy section with every default filled in, durations in milliseconds. */
export interface ResolvedDeploy {
  strategy: NonNullable<Deploy['strategy']>;
  drainMs: number;
  graceMs: number;
  warmMs: number;
  steps: number[];
  pauseMs: number;
  maxUnavailable: number;
  maxSurge: number;
}

/** Fill in the deploy defaults of a validated `deploy:` section (or of none). */
export function resolveDeploy(deploy: Deploy | undefined): ResolvedDeploy {
  const d = DEFAULTS.deploy;
  return {
    strategy: deploy?.strategy ?? d.strategy,
    drainMs: parseDuration(deploy?.drain, d.drainMs),
    graceMs: parseDuration(deploy?.grace, d.graceMs),
    warmMs: parseDuration(deploy?.warm, d.warmMs),
    steps: deploy?.steps ? [...deploy.steps] : [...d.steps],
    pauseMs: parseDuration(deploy?.pause, d.pauseMs),
    maxUnavailable: deploy?.max_unavailable ?? d.maxUnavailable,
    maxSurge: deploy?.max_surge ?? d.maxSurge,
  };
}

/** Fill in the health defaults of a validated `health:` section; no probe given means tcp. */
export function resolveHealth(health: Health | undefined): HealthCheck {
  const h = DEFAULTS.health;
  const probe: Pick<HealthCheck, 'http' | 'tcp' | 'exec'> = health?.http
    ? { http: health.http }
    : health?.exec
      ? { exec: health.exec }
      : { tcp: true };
  return {
    ...probe,
    intervalMs: parseDuration(health?.interval, h.intervalMs),
    timeoutMs: parseDuration(health?.timeout, h.timeoutMs),
    healthyThreshold: health?.healthy_threshold ?? h.healthyThreshold,
    unhealthyThreshold: health?.unhealthy_threshold ?? h.unhealthyThreshold,
    startTimeoutMs: parseDuration(health?.start_timeout, h.startTimeoutMs),
  };
}
