import type { Health } from '../spec/schema.js';
import { parseDuration } from '../util/duration.js';
import type { HealthCheck } from './types.js';

/** What a kind supplies when the stack file leaves parts of `health:` out. */
export interface HealthDefaults {
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  startTimeoutMs: number;
  /** Probe used when the spec names none, e.g. `{ tcp: true }` for an instance with a port. */
  probe?: Pick<HealthCheck, 'http' | 'tcp' | 'exec'>;
  /** How long a process must stay up to count as healthy when the check has no probe. */
  settleMs: number;
}

/** Defaults for app instances: probe every second, two-second timeout, one minute to start. */
export const DEFAULT_HEALTH: HealthDefaults = {
  intervalMs: 1_000,
  timeoutMs: 2_000,
  healthyThreshold: 1,
  unhealthyThreshold: 3,
  startTimeoutMs: 60_000,
  settleMs: 1_000,
};

/**
 * Resolve the `health:` section of a service into a HealthCheck: durations
 * in milliseconds, every threshold set. Pure. When the spec names no probe
 * (http, tcp or exec), the defaults' probe applies; `tcp: false` alone opts
 * out of it. A check without a probe judges an instance by its process
 * staying up for `settle` (default 1 s), as `docker compose up --wait` treats
 * a service without a healthcheck.
 */
export function resolveHealthCheck(spec: Health | undefined, defaults: HealthDefaults = DEFAULT_HEALTH): HealthCheck {
  const s = spec ?? {};
  const named = s.http !== undefined || s.tcp !== undefined || s.exec !== undefined;
  const probe = named ? { http: s.http, tcp: s.tcp === true ? true : undefined, exec: s.exec } : (defaults.probe ?? {});
  const check: HealthCheck = {
    intervalMs: parseDuration(s.interval, defaults.intervalMs),
    timeoutMs: parseDuration(s.timeout, defaults.timeoutMs),
    healthyThreshold: s.healthy_threshold ?? defaults.healthyThreshold,
    unhealthyThreshold: s.unhealthy_threshold ?? defaults.unhealthyThreshold,
    startTimeoutMs: parseDuration(s.start_timeout, defaults.startTimeoutMs),
  };
  if (probe.http !== undefined) check.http = probe.http;
  if (probe.tcp) check.tcp = true;
  if (probe.exec !== undefined) check.exec = probe.exec;
  if (!hasProbe(check)) check.settleMs = parseDuration(s.settle, defaults.settleMs);
  return check;
}

/** The check names at least one probe (http, tcp or exec). */
export function hasProbe(check: Pick<HealthCheck, 'http' | 'tcp' | 'exec'>): boolean {
  return check.http !== undefined || check.tcp === true || check.exec !== undefined;
}

/** One line describing a check, for plans and status: `http /healthz every 1000ms`. */
export function describeHealthCheck(check: HealthCheck): string {
  const probes: string[] = [];
  if (check.http !== undefined) probes.push(`http ${check.http}`);
  if (check.tcp) probes.push('tcp on $PORT');
  if (check.exec !== undefined) probes.push(`exec ${JSON.stringify(check.exec)}`);
  if (probes.length === 0) return `process stays up ${check.settleMs ?? 0}ms, no probe`;
  return `${probes.join(' + ')} every ${check.intervalMs}ms`;
}
