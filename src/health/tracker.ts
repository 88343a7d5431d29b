import type { ProbeResult } from './types.js';

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthThresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface HealthTransition {
  from: HealthState;
  to: HealthState;
  /** Detail of the probe result that caused the change. */
  detail: string;
}

/**
 * Judges an instance from its stream of probe results. Pure: no timers, no
 * I/O. `healthyThreshold` consecutive successes make it healthy,
 * `unhealthyThreshold` consecutive failures make it unhealthy; anything in
 * between keeps the current state.
 */
export class HealthTracker {
  private current: HealthState;
  private successes = 0;
  private failures = 0;
  private detail = '';

  constructor(private readonly thresholds: HealthThresholds, initial: HealthState = 'unknown') {
    this.current = initial;
  }

  get state(): HealthState {
    return this.current;
  }

  get consecutiveSuccesses(): number {
    return this.successes;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Detail of the latest result recorded ('' before the first). */
  get lastDetail(): string {
    return this.detail;
  }

  /** Record one probe result; returns the transition it caused, or null when the state holds. */
  record(result: ProbeResult): HealthTransition | null {
    this.detail = result.detail;
    if (result.ok) {
      this.successes++;
      this.failures = 0;
      if (this.current !== 'healthy' && this.successes >= this.thresholds.healthyThreshold) return this.move('healthy');
    } else {
      this.failures++;
      this.successes = 0;
      if (this.current !== 'unhealthy' && this.failures >= this.thresholds.unhealthyThreshold) return this.move('unhealthy');
    }
    return null;
  }

  /** Forget the counts and go back to `unknown`, e.g. after the instance was restarted. */
  reset(): void {
    this.current = 'unknown';
    this.successes = 0;
    this.failures = 0;
    this.detail = '';
  }

  private move(to: HealthState): HealthTransition {
    const from = this.current;
    this.current = to;
    return { from, to, detail: this.detail };
  }
}
