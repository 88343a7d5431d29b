import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH, HealthTracker, describeHealthCheck, resolveHealthCheck, type HealthDefaults } from '../src/health/index.js';
import type { Health } from '../src/spec/schema.js';

const tcpDefaults: HealthDefaults = { ...DEFAULT_HEALTH, probe: { tcp: true } };

describe('resolveHealthCheck', () => {
  const cases: Array<[string, Health | undefined, HealthDefaults, ReturnType<typeof resolveHealthCheck>]> = [
    ['no spec, no default probe: the process must stay up 1s', undefined, DEFAULT_HEALTH, { intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000, settleMs: 1000 }],
    ['settle sets how long', { settle: '3s' }, DEFAULT_HEALTH, { intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000, settleMs: 3000 }],
    ['no spec takes the default probe', undefined, tcpDefaults, { tcp: true, intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000 }],
    [
      'http with durations and thresholds',
      { http: '/healthz', interval: '500ms', timeout: '1.5s', start_timeout: '2m', healthy_threshold: 2, unhealthy_threshold: 5 },
      tcpDefaults,
      { http: '/healthz', intervalMs: 500, timeoutMs: 1500, healthyThreshold: 2, unhealthyThreshold: 5, startTimeoutMs: 120000 },
    ],
    ['a named probe replaces the default probe', { exec: 'pg_isready' }, tcpDefaults, { exec: 'pg_isready', intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000 }],
    ['tcp: false opts out of the default probe', { tcp: false, interval: 250 }, tcpDefaults, { intervalMs: 250, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000, settleMs: 1000 }],
    ['http and exec together', { http: '/ready', exec: 'true' }, DEFAULT_HEALTH, { http: '/ready', exec: 'true', intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: 60000 }],
  ];
  it.each(cases)('%s', (_name, spec, defaults, expected) => {
    expect(resolveHealthCheck(spec, defaults)).toEqual(expected);
  });

  it('describes a check in one line', () => {
    expect(describeHealthCheck(resolveHealthCheck({ http: '/healthz', interval: '2s' }))).toBe('http /healthz every 2000ms');
    expect(describeHealthCheck(resolveHealthCheck({ tcp: true, exec: 'true' }))).toBe('tcp on $PORT + exec "true" every 1000ms');
    expect(describeHealthCheck(resolveHealthCheck(undefined))).toBe('process stays up 1000ms, no probe');
  });
});

describe('HealthTracker', () => {
  const ok = { ok: true, detail: 'GET /healthz: 200' };
  const bad = { ok: false, detail: 'GET /healthz: 503' };

  it('needs consecutive results to cross each threshold', () => {
    const t = new HealthTracker({ healthyThreshold: 2, unhealthyThreshold: 3 });
    const seen = [ok, bad, ok, ok, bad, bad, ok, bad, bad, bad, bad, ok, ok].map((r) => {
      const change = t.record(r);
      return change ? `${change.from}->${change.to}` : t.state;
    });
    expect(seen).toEqual([
      'unknown', 'unknown', 'unknown', 'unknown->healthy',
      'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy->unhealthy', 'unhealthy',
      'unhealthy', 'unhealthy->healthy',
    ]);
  });

  it('goes from unknown to unhealthy, carries the causing detail, and resets', () => {
    const t = new HealthTracker({ healthyThreshold: 1, unhealthyThreshold: 2 });
    expect(t.record(bad)).toBeNull();
    expect(t.consecutiveFailures).toBe(1);
    expect(t.record(bad)).toEqual({ from: 'unknown', to: 'unhealthy', detail: 'GET /healthz: 503' });
    expect(t.lastDetail).toBe('GET /healthz: 503');
    t.reset();
    expect([t.state, t.consecutiveFailures, t.consecutiveSuccesses, t.lastDetail]).toEqual(['unknown', 0, 0, '']);
    expect(t.record(ok)).toEqual({ from: 'unknown', to: 'healthy', detail: 'GET /healthz: 200' });
    expect(t.consecutiveSuccesses).toBe(1);
  });

  it('can start from a known state (an adopted instance assumed healthy)', () => {
    const t = new HealthTracker({ healthyThreshold: 3, unhealthyThreshold: 1 }, 'healthy');
    expect(t.record(ok)).toBeNull();
    expect(t.record(bad)).toEqual({ from: 'healthy', to: 'unhealthy', detail: 'GET /healthz: 503' });
  });
});
