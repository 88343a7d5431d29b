import type { ExecDeps } from '../apply/context.js';
import { handleOf } from '../apply/instances.js';
import { routerClientOf } from '../agent/traffic.js';
import { RUN_ENDED, type RunStatus } from '../pipeline/types.js';
import type { RouterStats } from '../router/types.js';
import type { BackupSuccess, FinishedOperation, HttpTotals, Observation, ObservedInstance, ObservedService } from './model.js';

/**
 * Read one observation of the state dir: the state store (instances, services,
 * the journal, backup events, pipeline runs), the router's counters when a router
 * runs (never starting one), and the runtime driver's usage of running instances.
 */
export async function observe(deps: ExecDeps): Promise<Observation> {
  const { store, driver } = deps;
  const at = Date.now();
  const envs = store.db.prepare(`SELECT env FROM services UNION SELECT env FROM instances WHERE status NOT IN ('stopped', 'failed')`).pluck().all() as string[];
  const records = envs.flatMap((env) => store.instances(env, { live: true }));
  const handles = records.flatMap((i) => {
    const h = handleOf(i);
    return h ? [h] : [];
  });
  const alive = new Set(handles.filter((h) => driver.isAlive(h)).map((h) => h.id));
  const usage = driver.usage ? await driver.usage(handles.filter((h) => alive.has(h.id))) : new Map();
  const instances: ObservedInstance[] = records.map((i) => ({
    env: i.env,
    service: i.service,
    release: i.release,
    instance: i.id,
    status: i.status,
    alive: alive.has(i.id),
    healthy: i.health === 'healthy',
    restarts: i.restarts,
    usage: usage.get(i.id) ?? null,
  }));
  const services: ObservedService[] = envs.flatMap((env) =>
    store.services(env).map((s) => {
      const current = instances.filter((i) => i.env === env && i.service === s.name && i.release === s.currentRelease);
      return { env, service: s.name, release: s.currentRelease, desired: current.length, ready: current.filter((i) => i.alive && i.status === 'running' && i.healthy).length };
    }),
  );
  const stats = await routerClientOf(deps.stateDir)
    .stats()
    .catch(() => null);
  return { at, instances, services, http: httpTotals(stats, (id) => store.release(id)), operations: finishedOperations(deps), backups: backups(deps), pipelineRuns: pipelineRuns(deps) };
}

/** A release id's env and service: from the store, else from the route id (`<env>:…`) and the id (`<service>-<8 hex>`). */
function owner(route: string, release: string, recorded: (id: string) => { env: string; service: string } | null): { env: string; service: string } {
  const r = recorded(release);
  if (r) return { env: r.env, service: r.service };
  return { env: route.split(':')[0] ?? 'default', service: /^(.*)-[0-9a-f]{8}$/.exec(release)?.[1] ?? release };
}

export function httpTotals(stats: RouterStats | null, recorded: (id: string) => { env: string; service: string } | null): HttpTotals {
  if (!stats) return { bucketsS: [], releases: [], window: [], windowS: 30 };
  return {
    bucketsS: stats.latencyBucketsS ?? [],
    releases: (stats.totals ?? []).map((t) => ({ ...owner(t.route, t.release, recorded), release: t.release, requests: t.requests, byCode: t.byCode, buckets: t.buckets, latencySumS: t.latencySumS })),
    window: stats.routes.flatMap((r) =>
      r.releases.map((x) => ({ ...owner(r.id, x.release, recorded), release: x.release, requests: x.windowRequests, errors: x.windowErrors, p50Ms: x.p50Ms, p99Ms: x.p99Ms })),
    ),
    windowS: stats.windowMs / 1000,
  };
}

function finishedOperations(deps: ExecDeps): FinishedOperation[] {
  const rows = deps.store.db
    .prepare(`SELECT kind, status, created_at, finished_at FROM operations WHERE finished_at IS NOT NULL AND status IN ('succeeded', 'failed', 'undone')`)
    .all() as Array<{ kind: string; status: string; created_at: string; finished_at: string }>;
  return rows.map((r) => ({ kind: r.kind, status: r.status, durationS: Math.max(0, (Date.parse(r.finished_at) - Date.parse(r.created_at)) / 1000) }));
}

/** The newest `backup-taken` event of each service still recorded. */
function backups(deps: ExecDeps): BackupSuccess[] {
  const rows = deps.store.db
    .prepare(
      `SELECT e.env AS env, e.service AS service, MAX(e.at) AS at FROM events e JOIN services s ON s.env = e.env AND s.name = e.service
       WHERE e.kind = 'backup-taken' GROUP BY e.env, e.service ORDER BY e.env, e.service`,
    )
    .all() as Array<{ env: string; service: string; at: string }>;
  return rows.map((r) => ({ env: r.env, service: r.service, at: Date.parse(r.at) / 1000 }));
}

/** Ended pipeline runs by status (the pipeline's own table, made when the pipeline first starts). */
function pipelineRuns(deps: ExecDeps): Array<{ status: string; count: number }> {
  const db = deps.store.db;
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pipeline_runs'`).get()) return [];
  const rows = db.prepare(`SELECT status, COUNT(*) AS count FROM pipeline_runs GROUP BY status`).all() as Array<{ status: string; count: number }>;
  return rows.filter((r) => RUN_ENDED.has(r.status as RunStatus));
}
