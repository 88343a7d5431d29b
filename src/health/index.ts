export type { HealthCheck, ProbeResult, ProbeTarget } from './types.js';
export { DEFAULT_HEALTH, describeHealthCheck, hasProbe, resolveHealthCheck, type HealthDefaults } from './check.js';
export { probeOnce } from './probe.js';
export { waitHealthy, type WaitHealthyOptions } from './wait.js';
export { HealthTracker, type HealthState, type HealthThresholds, type HealthTransition } from './tracker.js';
export { InstanceExitedError } from './errors.js';
