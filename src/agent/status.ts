import { existsSync } from 'node:fs';
import type { ExecDeps } from '../apply/context.js';
import { handleOf, kindCtx } from '../apply/instances.js';
import { getKind } from '../kinds/registry.js';
import { maskedOutputs, rawOutputs, type ServiceOutputs } from '../outputs/index.js';
import type { ReleaseConfig } from '../plan/types.js';
import type { StateStore } from '../state/store.js';
import { LeaseStore } from '../state/lease.js';
import type { RouterStatus } from './router-watch.js';

export interface InstanceStatus {
  id: string;
  release: string;
  pid: number | null;
  port: number | null;
  status: string;
  alive: boolean;
  health: string;
  restarts: number;
  lastExit: string | null;
  /** Status of the instance's release: `live` takes traffic, `warm` runs without it (instant rollback), `pending` is being deployed. */
  role: string;
}

export interface ServiceStatus {
  name: string;
  kind: string;
  release: string | null;
  previous: string | null;
  ports: Record<string, number>;
  volume: string | null;
  /** Where the volume lives (under the state dir, or a Symphony-owned root the server account can reach). */
  volumePath: string | null;
  /** How to reach the service, secret parts masked (`postgres://shop:****@127.0.0.1:21000/shop`). */
  url?: string;
  /** Client endpoints (clusters; apps with several routes). */
  endpoints?: string[];
  /** Every named output, secret parts masked (`symphony output <service>.<name>`). */
  outputs: Record<string, string>;
  /** Releases with running instances or traffic: which is live, which is warm and until when. */
  releases: Array<{ id: string; status: string; warmUntil: string | null }>;
  instances: InstanceStatus[];
}

/** The agent process, as status shows it. */
export interface AgentInfo {
  pid: number;
  startedAt: string;
  uptimeS: number;
}

export interface EnvStatus {
  env: string;
  /** The agent serving the state dir and its router (added by the agent's status route). */
  agent?: AgentInfo;
  router?: RouterStatus;
  serial: number;
  services: ServiceStatus[];
  lock: ReturnType<LeaseStore['current']>;
  operation: { id: string; kind: string; status: string; error: string | null; createdAt: string } | null;
}

/** Status of one environment: per service its release, instances, health, ports and restarts. No secret values. */
export function envStatus(deps: ExecDeps, env: string): EnvStatus {
  const { store, driver, journal } = deps;
  const last = journal.list(env, 1)[0];
  return {
    env,
    serial: store.serial(),
    lock: new LeaseStore(store).current(env),
    operation: last ? { id: last.id, kind: last.kind, status: last.status, error: last.error, createdAt: last.createdAt } : null,
    services: store.services(env).map((s) => {
      const rel = s.currentRelease ? store.release(s.currentRelease) : null;
      const cfg = rel?.config as ReleaseConfig | undefined;
      const instances = store.instances(env, { service: s.name, live: true });
      const releases = [...new Set([s.currentRelease, ...instances.map((i) => i.release)])].flatMap((id) => (id ? [store.release(id)] : [])).filter((r) => r !== null);
      const role = new Map(releases.map((r) => [r.id, r.status as string]));
      const out = cfg ? outputsOf(store, env, cfg) : { values: {} };
      return {
        name: s.name,
        kind: s.kind,
        release: s.currentRelease,
        previous: s.previousRelease,
        ports: s.ports,
        volume: cfg?.volume ?? null,
        volumePath: cfg?.volumePath ?? null,
        ...(out.url !== undefined ? { url: out.url } : {}),
        ...(out.endpoints !== undefined ? { endpoints: out.endpoints } : {}),
        outputs: out.values,
        releases: releases.map((r) => ({ id: r.id, status: r.status, warmUntil: r.status === 'warm' ? r.warmUntil : null })),
        instances: instances.map((i) => {
          const h = handleOf(i);
          return { id: i.id, release: i.release, pid: i.pid, port: i.port, status: i.status, alive: h ? driver.isAlive(h) : false, health: i.health, restarts: i.restarts, lastExit: i.lastExit, role: role.get(i.release) ?? 'unknown' };
        }),
      };
    }),
  };
}

/** A service's outputs at its current release, masked; none when its kind cannot say (never throws). */
function outputsOf(store: StateStore, env: string, cfg: ReleaseConfig): ServiceOutputs {
  try {
    return maskedOutputs(rawOutputs(getKind(cfg.kind), kindCtx(env, cfg), store.routes(env)));
  } catch {
    return { values: {} };
  }
}

export interface DriftItem {
  service: string | null;
  instance: string | null;
  recorded: string;
  observed: string;
}

/** What differs between the recorded state and what runs. Read-only. */
export async function drift(deps: ExecDeps, env: string): Promise<DriftItem[]> {
  const { store, driver } = deps;
  const observed = await driver.list();
  const items: DriftItem[] = [];
  const recorded = store.instances(env, { live: true });
  for (const i of recorded) {
    const h = handleOf(i);
    const alive = h ? driver.isAlive(h) : false;
    if (i.status === 'running' && !alive) items.push({ service: i.service, instance: i.id, recorded: `running (pid ${i.pid})`, observed: 'not running' });
    if (i.status === 'crashed') items.push({ service: i.service, instance: i.id, recorded: 'crashed, waiting for restart', observed: alive ? 'running' : 'not running' });
  }
  const known = new Set(store.db.prepare(`SELECT id FROM instances WHERE status NOT IN ('stopped', 'failed')`).pluck().all() as string[]);
  // A process handed over to a new release keeps its old stamp: known by pid + start time.
  const handles = new Set(recorded.map((i) => `${i.pid}:${i.startTime}`));
  for (const o of observed) {
    if (!known.has(o.id) && !handles.has(`${o.pid}:${o.startTime}`) && store.release(o.release)?.env === env) items.push({ service: o.service, instance: o.id, recorded: 'not recorded', observed: `running (pid ${o.pid})` });
  }
  for (const s of store.services(env)) {
    if (!s.currentRelease) continue;
    const live = recorded.filter((i) => i.service === s.name && i.release === s.currentRelease);
    if (live.length === 0) items.push({ service: s.name, instance: null, recorded: `release ${s.currentRelease} live`, observed: 'no instance recorded' });
  }
  for (const v of store.volumes(env)) {
    if (!existsSync(v.path)) items.push({ service: null, instance: null, recorded: `volume ${v.name} at ${v.path}`, observed: 'directory missing' });
  }
  return items;
}
