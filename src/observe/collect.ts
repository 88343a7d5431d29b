import type { Family, HistogramSeries, Observation, Sample } from './model.js';

/** Upper bounds (seconds) of the operation duration histogram: deploys take seconds to an hour. */
export const OPERATION_BUCKETS_S = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const INSTANCE_LABELS = ['env', 'service', 'instance', 'release'];

/**
 * Every metric the agent exports, from one observation. Pure: the same
 * observation gives the same families, in the same order, every time. Families
 * are always all present (possibly without series) so the registry is fixed.
 */
export function collect(o: Observation): Family[] {
  const inst = (i: Observation['instances'][number]) => ({ env: i.env, service: i.service, instance: i.instance, release: i.release });
  const measured = o.instances.filter((i) => i.usage !== null);
  return [
    {
      type: 'counter',
      name: 'symphony_http_requests_total',
      help: 'Requests through the router by service, release and status class (code: 1xx..5xx, or error when the socket failed before a status)',
      labelNames: ['env', 'service', 'release', 'code'],
      samples: o.http.releases.flatMap((r) =>
        Object.entries(r.byCode)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([code, n]) => ({ labels: { env: r.env, service: r.service, release: r.release, code }, value: n })),
      ),
    },
    {
      type: 'histogram',
      name: 'symphony_http_request_duration_seconds',
      help: 'Time from request received by the router to response finished, by service and release',
      labelNames: ['env', 'service', 'release'],
      bucketsS: o.http.bucketsS,
      series: o.http.releases.map((r) => ({ labels: { env: r.env, service: r.service, release: r.release }, buckets: r.buckets, count: r.requests, sum: r.latencySumS })),
    },
    {
      type: 'counter',
      name: 'symphony_instance_cpu_seconds_total',
      help: 'CPU time (user + system) of the instance and the children it reaped, since it started',
      labelNames: INSTANCE_LABELS,
      samples: measured.map((i) => ({ labels: inst(i), value: round(i.usage!.cpuSeconds) })),
    },
    {
      type: 'gauge',
      name: 'symphony_instance_resident_memory_bytes',
      help: 'Resident memory of the instance, summed over its processes',
      labelNames: INSTANCE_LABELS,
      samples: measured.map((i) => ({ labels: inst(i), value: i.usage!.residentBytes })),
    },
    {
      type: 'counter',
      name: 'symphony_instance_restarts_total',
      help: 'Times the supervisor restarted the instance after it crashed',
      labelNames: INSTANCE_LABELS,
      samples: o.instances.map((i) => ({ labels: inst(i), value: i.restarts })),
    },
    {
      type: 'gauge',
      name: 'symphony_instance_up',
      help: '1 when the instance is recorded running and its process runs, else 0',
      labelNames: INSTANCE_LABELS,
      samples: o.instances.map((i) => ({ labels: inst(i), value: i.alive && i.status === 'running' ? 1 : 0 })),
    },
    {
      type: 'gauge',
      name: 'symphony_service_replicas',
      help: 'Instances of the current release: desired (recorded to run) and ready (running and healthy)',
      labelNames: ['env', 'service', 'state'],
      samples: o.services.flatMap((s): Sample[] => [
        { labels: { env: s.env, service: s.service, state: 'desired' }, value: s.desired },
        { labels: { env: s.env, service: s.service, state: 'ready' }, value: s.ready },
      ]),
    },
    {
      type: 'counter',
      name: 'symphony_operations_total',
      help: 'Finished operations (deploys, rollbacks, restores, destroys) by kind and outcome',
      labelNames: ['kind', 'status'],
      samples: countBy(o.operations, (op) => `${op.kind}\u0000${op.status}`).map(([key, n]) => {
        const [kind, status] = key.split('\u0000');
        return { labels: { kind, status }, value: n };
      }),
    },
    {
      type: 'histogram',
      name: 'symphony_operation_duration_seconds',
      help: 'Time from an operation submitted to finished, by kind',
      labelNames: ['kind'],
      bucketsS: OPERATION_BUCKETS_S,
      series: durations(o.operations),
    },
    {
      type: 'gauge',
      name: 'symphony_backup_last_success_timestamp_seconds',
      help: 'Unix time of the newest backup taken of the service',
      labelNames: ['env', 'service'],
      samples: o.backups.map((b) => ({ labels: { env: b.env, service: b.service }, value: b.at })),
    },
    {
      type: 'counter',
      name: 'symphony_pipeline_runs_total',
      help: 'Pipeline runs by status',
      labelNames: ['status'],
      samples: [...o.pipelineRuns].sort((a, b) => a.status.localeCompare(b.status)).map((r) => ({ labels: { status: r.status }, value: r.count })),
    },
  ];
}

/** Bucket each operation's duration by kind (a duration equal to a bound falls in that bucket). */
export function durations(ops: Observation['operations'], bounds: number[] = OPERATION_BUCKETS_S): HistogramSeries[] {
  const byKind = new Map<string, HistogramSeries>();
  for (const op of ops) {
    let s = byKind.get(op.kind);
    if (!s) byKind.set(op.kind, (s = { labels: { kind: op.kind }, buckets: bounds.map(() => 0), count: 0, sum: 0 }));
    const i = bounds.findIndex((b) => op.durationS <= b);
    if (i >= 0) s.buckets[i]++;
    s.count++;
    s.sum = round(s.sum + op.durationS);
  }
  return [...byKind.values()].sort((a, b) => a.labels.kind.localeCompare(b.labels.kind));
}

function countBy<T>(xs: T[], key: (x: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
