import { setTimeout as sleep } from 'node:timers/promises';
import { HealthCheckTimeoutError } from '../errors.js';
import { InstanceExitedError } from './errors.js';
import { probeOnce } from './probe.js';
import type { HealthCheck, ProbeTarget } from './types.js';

/** Probe interval while a starting instance has not passed once. */
export const STARTUP_PROBE_MS = 100;

export interface WaitHealthyOptions {
  /** Instance id, named in errors. */
  instance: string;
  /** The instance's log file, pointed at in errors. */
  logFile?: string;
  /** Aborts the wait (the abort reason is thrown). */
  signal?: AbortSignal;
  /** Asked before every probe; false means the process died and the wait fails at once. */
  isAlive?: () => boolean;
}

/**
 * Probe a starting instance until `healthyThreshold` consecutive probes pass.
 * Throws HealthCheckTimeoutError when `startTimeoutMs` runs out, and
 * InstanceExitedError as soon as `isAlive()` reports the process gone.
 */
export async function waitHealthy(check: HealthCheck, target: ProbeTarget, opts: WaitHealthyOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + check.startTimeoutMs;
  let consecutive = 0;
  let lastDetail = 'no probe ran yet';
  for (;;) {
    opts.signal?.throwIfAborted();
    if (opts.isAlive && !opts.isAlive()) throw new InstanceExitedError(opts.instance, lastDetail, opts.logFile);
    const result = await probeOnce(check, target, opts.signal);
    opts.signal?.throwIfAborted();
    lastDetail = result.detail;
    consecutive = result.ok ? consecutive + 1 : 0;
    if (consecutive >= check.healthyThreshold) return;
    if (!result.ok && opts.isAlive && !opts.isAlive()) throw new InstanceExitedError(opts.instance, lastDetail, opts.logFile);
    const now = Date.now();
    if (now >= deadline) throw new HealthCheckTimeoutError(opts.instance, now - started, lastDetail, opts.logFile);
    try {
      // Until the first pass, probe fast (a starting app is usually seconds from listening); then at the interval.
      const pause = consecutive === 0 ? Math.min(check.intervalMs, STARTUP_PROBE_MS) : check.intervalMs;
      await sleep(Math.min(pause, deadline - now), undefined, { signal: opts.signal });
    } catch {
      opts.signal?.throwIfAborted();
    }
  }
}
