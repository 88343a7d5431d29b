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
