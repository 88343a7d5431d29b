import { describe, expect, it } from 'vitest';
import { collect, durations } from './collect.js';
import type { Family } from './model.js';
import { OBS } from './testing/observation.js';

const family = (fs: Family[], name: string): Family => fs.find((f) => f.name === name)!;
const samples = (fs: Family[], name: string) => {
  const f = family(fs, name);
  return f.type === 'histogram' ? f.series : f.samples;
};
const inst = (n: number) => ({ env: 'default', service: 'web', instance: `web-1a2b3c4d-${n}`, release: 'web-1a2b3c4d' });

describe('collect', () => {
  const fs = collect(OBS);

  it('exports every family, in a fixed order, whatever the observation holds', () => {
    const empty = collect({ ...OBS, instances: [], services: [], http: { bucketsS: [], releases: [], window: [], windowS: 30 }, operations: [], backups: [], pipelineRuns: [] });
    expect(empty.map((f) => f.name)).toEqual(fs.map((f) => f.name));
    expect(fs.map((f) => f.name)).toEqual([
      'symphony_http_requests_total',
      'symphony_http_request_duration_seconds',
      'symphony_instance_cpu_seconds_total',
      'symphony_instance_resident_memory_bytes',
      'symphony_instance_restarts_total',
      'symphony_instance_up',
      'symphony_service_replicas',
      'symphony_operations_total',
      'symphony_operation_duration_seconds',
      'symphony_backup_last_success_timestamp_seconds',
      'symphony_pipeline_runs_total',
    ]);
  });

  it('requests by service, release and code; the latency histogram as the router counted it', () => {
    expect(samples(fs, 'symphony_http_requests_total')).toEqual([
      { labels: { env: 'default', service: 'web', release: 'web-1a2b3c4d', code: '2xx' }, value: 10 },
      { labels: { env: 'default', service: 'web', release: 'web-1a2b3c4d', code: '5xx' }, value: 2 },
    ]);
    expect(family(fs, 'symphony_http_request_duration_seconds')).toMatchObject({ bucketsS: [0.01, 0.1], series: [{ labels: { env: 'default', service: 'web', release: 'web-1a2b3c4d' }, buckets: [9, 2], count: 12, sum: 0.25 }] });
  });

  it('instances: usage only where measured, up only when recorded running and alive, restarts for all', () => {
    expect(samples(fs, 'symphony_instance_cpu_seconds_total')).toEqual([{ labels: inst(0), value: 1.5 }]);
    expect(samples(fs, 'symphony_instance_resident_memory_bytes')).toEqual([{ labels: inst(0), value: 40e6 }]);
    expect(samples(fs, 'symphony_instance_up')).toEqual([{ labels: inst(0), value: 1 }, { labels: inst(1), value: 0 }]);
    expect(samples(fs, 'symphony_instance_restarts_total')).toEqual([{ labels: inst(0), value: 0 }, { labels: inst(1), value: 3 }]);
  });

  it('replicas desired and ready; operations by kind and outcome; backups; pipeline runs', () => {
    expect(samples(fs, 'symphony_service_replicas')).toEqual([
      { labels: { env: 'default', service: 'web', state: 'desired' }, value: 2 },
      { labels: { env: 'default', service: 'web', state: 'ready' }, value: 1 },
    ]);
    expect(samples(fs, 'symphony_operations_total')).toEqual([
      { labels: { kind: 'apply', status: 'succeeded' }, value: 2 },
      { labels: { kind: 'apply', status: 'undone' }, value: 1 },
      { labels: { kind: 'destroy', status: 'succeeded' }, value: 1 },
    ]);
    expect(samples(fs, 'symphony_backup_last_success_timestamp_seconds')).toEqual([{ labels: { env: 'default', service: 'db' }, value: 1_700_000_000 }]);
    expect(samples(fs, 'symphony_pipeline_runs_total')).toEqual([{ labels: { status: 'failed' }, value: 1 }, { labels: { status: 'succeeded' }, value: 3 }]);
  });

  it('buckets operation durations by kind; a duration on a bound falls in it, one past the last only in +Inf', () => {
    expect(durations([...OBS.operations, { kind: 'apply', status: 'failed', durationS: 9000 }], [1, 5, 60])).toEqual([
      { labels: { kind: 'apply' }, buckets: [0, 2, 0], count: 4, sum: 9079 },
      { labels: { kind: 'destroy' }, buckets: [1, 0, 0], count: 1, sum: 0.5 },
    ]);
  });
});
