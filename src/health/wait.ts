import { setTimeout as sleep } from 'node:timers/promises';
import { HealthCheckTimeoutError, type JudgedBy } from '../errors.js';
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
  /** The rule the check stands for, named in a timeout's message. */
  judgedBy?: JudgedBy;
}

/**
 * Probe a starting instance until `healthyThreshold` consecutive probes pass.
 * Throws HealthCheckTimeoutError when `startTimeoutMs` runs out, and
 * InstanceExitedError as soon as `isAlive()` reports the process gone.
 * A check without a probe (`settleMs` set) passes once the process has stayed
 * up that long.
 */
export async function waitHealthy(check: HealthCheck, target: ProbeTarget, opts: WaitHealthyOptions): Promise<void> {
  if (check.settleMs !== undefined) return waitSettled(check.settleMs, opts);
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
    if (now >= deadline) throw new HealthCheckTimeoutError(opts.instance, now - started, lastDetail, opts.logFile, opts.judgedBy);
    try {
      // Until the first pass, probe fast (a starting app is usually seconds from listening); then at the interval.
      const pause = consecutive === 0 ? Math.min(check.intervalMs, STARTUP_PROBE_MS) : check.intervalMs;
      await sleep(Math.min(pause, deadline - now), undefined, { signal: opts.signal });
    } catch {
      opts.signal?.throwIfAborted();
    }
  }
}

/** Healthy once the process has stayed up `settleMs`; InstanceExitedError if it ends before. */
async function waitSettled(settleMs: number, opts: WaitHealthyOptions): Promise<void> {
  const deadline = Date.now() + settleMs;
  const detail = `no probe: the process must stay up ${settleMs} ms`;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (opts.isAlive && !opts.isAlive()) throw new InstanceExitedError(opts.instance, detail, opts.logFile);
    const left = deadline - Date.now();
    if (left <= 0) return;
    try {
      await sleep(Math.min(left, STARTUP_PROBE_MS), undefined, { signal: opts.signal });
    } catch {
      opts.signal?.throwIfAborted();
    }
  }
}
