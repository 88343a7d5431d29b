import type { Observation } from '../model.js';

const usage = (cpuSeconds: number, residentBytes: number) => ({ cpuSeconds, residentBytes, processes: 1 });

/** One observation of a small stack, for the collectors' unit tests. */
export const OBS: Observation = {
  at: 10_000,
  instances: [
    { env: 'default', service: 'web', release: 'web-1a2b3c4d', instance: 'web-1a2b3c4d-0', status: 'running', alive: true, healthy: true, restarts: 0, usage: usage(1.5, 40e6) },
    { env: 'default', service: 'web', release: 'web-1a2b3c4d', instance: 'web-1a2b3c4d-1', status: 'crashed', alive: false, healthy: false, restarts: 3, usage: null },
  ],
  services: [{ env: 'default', service: 'web', release: 'web-1a2b3c4d', desired: 2, ready: 1 }],
  http: {
    bucketsS: [0.01, 0.1],
    releases: [{ env: 'default', service: 'web', release: 'web-1a2b3c4d', requests: 12, byCode: { '5xx': 2, '2xx': 10 }, buckets: [9, 2], latencySumS: 0.25 }],
    window: [{ env: 'default', service: 'web', release: 'web-1a2b3c4d', requests: 12, errors: 2, p50Ms: 3, p99Ms: 150 }],
    windowS: 30,
  },
  operations: [
    { kind: 'apply', status: 'succeeded', durationS: 4 },
    { kind: 'apply', status: 'succeeded', durationS: 5 },
    { kind: 'apply', status: 'undone', durationS: 70 },
    { kind: 'destroy', status: 'succeeded', durationS: 0.5 },
  ],
  backups: [{ env: 'default', service: 'db', at: 1_700_000_000 }],
  pipelineRuns: [{ status: 'succeeded', count: 3 }, { status: 'failed', count: 1 }],
};
