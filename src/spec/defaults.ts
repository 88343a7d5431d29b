/**
 * What an omitted key means. The planner (src/plan/release.ts) and the health
 * checks (src/health/check.ts) apply these; docs/stack-file.md lists them.
 * Durations are in milliseconds.
 */
export const DEFAULTS = {
  replicas: 1,
  runtime: 'process',
  deploy: {
    strategy: 'blue-green',
    drainMs: 10_000,
    graceMs: 10_000,
    warmMs: 300_000,
    steps: [10, 50, 100],
    pauseMs: 0,
    maxUnavailable: 0,
    maxSurge: 1,
  },
  health: {
    startTimeoutMs: 60_000,
    intervalMs: 1_000,
    timeoutMs: 2_000,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
    /** An app without a probe in `health:` is healthy when its PORT accepts TCP connections. */
    probe: 'tcp',
  },
} as const;
