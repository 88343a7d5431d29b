/** A resolved health check of one instance. */
export interface HealthCheck {
  http?: string;
  tcp?: boolean;
  exec?: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  startTimeoutMs: number;
  /**
   * Set only on a check without a probe: the instance is healthy once its
   * process has stayed up this long (a worker that listens on nothing).
   */
  settleMs?: number;
}

export interface ProbeTarget {
  host: string;
  port?: number;
  cwd?: string;
  env?: Record<string, string>;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}
