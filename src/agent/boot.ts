import { existsSync } from 'node:fs';
import type { ExecDeps } from '../apply/context.js';
import { kindCtx, waitInstanceHealthy } from '../apply/instances.js';
import type { ReleaseConfig } from '../plan/types.js';
import { topologicalOrder } from '../spec/graph.js';
import type { InstanceRecord } from '../state/types.js';
import { restartInstance } from './supervisor.js';

/** A service as boot ordering sees it. */
export interface BootService {
  name: string;
  /** `app`, or a stateful kind (postgres, etcd, cluster). */
  kind: string;
  /** Services it uses (`uses:` and `${service.x}` references). */
  deps: string[];
}

/** Services a release's section uses: its `uses:` list and every `${name.` reference to another service. */
export function depsOf(cfg: ReleaseConfig, services: readonly string[]): string[] {
  const uses = Array.isArray(cfg.spec.uses) ? cfg.spec.uses.filter((u): u is string => typeof u === 'string') : [];
  const refs = [...JSON.stringify(cfg.spec).matchAll(/\$\{([A-Za-z0-9_-]+)\./g)].map((m) => m[1]);
  return [...new Set([...uses, ...refs])].filter((s) => s !== cfg.service && services.includes(s));
}

/**
 * The order a stack comes back in after every process died: stateful services first, in
 * dependency order (postgres before what uses it), then apps in dependency order. A cycle
 * (refused by plan, so only in a hand-edited state) falls back to names.
 */
export function bootOrder(services: readonly BootService[]): string[] {
  const orderOf = (group: readonly BootService[]): string[] => {
    const graph = new Map(group.map((s) => [s.name, s.deps]));
    try {
      return topologicalOrder(graph);
    } catch {
      return [...graph.keys()].sort();
    }
  };
  return [...orderOf(services.filter((s) => s.kind !== 'app')), ...orderOf(services.filter((s) => s.kind === 'app'))];
}

/**
 * Instances the agent found dead that belong to a release taking traffic or kept warm, when
 * none of the environment's instances survived (a machine restart). A death among survivors
 * is an ordinary crash: the supervisor restarts it with backoff.
 */
function crashedOf(deps: ExecDeps, env: string): InstanceRecord[] {
  const live = deps.store.instances(env, { live: true });
  if (live.some((i) => i.status === 'running')) return [];
  return live.filter((i) => {
    const status = deps.store.release(i.release)?.status;
    return i.status === 'crashed' && (status === 'live' || status === 'warm');
  });
}

/**
 * After a restart of the machine (or every process of the stack killed), bring each
 * environment back as recorded, before the router and before unfinished operations resume:
 * service by service in boot order, every dead instance of a service at once (a cluster's
 * members need each other for quorum), then wait until they pass their health check before
 * the next service. A stateful instance whose volume directory is gone is not started
 * (it would start empty): an event says so and drift shows it.
 */
export async function bootRestore(deps: ExecDeps): Promise<{ restored: number; failed: number }> {
  const { store, log } = deps;
  let restored = 0;
  let failed = 0;
  const envs = store.db.prepare(`SELECT DISTINCT env FROM instances`).pluck().all() as string[];
  for (const env of envs) {
    const crashed = crashedOf(deps, env);
    if (crashed.length === 0) continue;
    const configs = new Map<string, ReleaseConfig>();
    for (const i of crashed) configs.set(i.service, store.release(i.release)!.config as ReleaseConfig);
    const names = store.services(env).map((s) => s.name);
    const order = bootOrder([...configs].map(([name, cfg]) => ({ name, kind: cfg.kind, deps: depsOf(cfg, names) })));
    for (const service of order) {
      const cfg = configs.get(service)!;
      const started = Date.now();
      if (cfg.volumePath && !existsSync(cfg.volumePath)) {
        store.addEvent(env, 'boot-blocked', `${service} not started: its volume ${cfg.volumePath} is missing (it would start empty); see: symphony drift`, { service });
        failed++;
        continue;
      }
      const mine = crashed.filter((i) => i.service === service);
      const results = await Promise.allSettled(
        mine.map(async (i) => {
          const back = await restartInstance(deps, i);
          const relCfg = store.release(back.release)!.config as ReleaseConfig;
          await waitInstanceHealthy(deps, kindCtx(env, relCfg), relCfg, back);
        }),
      );
      const bad = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      restored += mine.length - bad.length;
      failed += bad.length;
      const ms = Date.now() - started;
      if (bad.length === 0) store.addEvent(env, 'boot-restored', `${service}: ${mine.length} instance(s) back and healthy in ${ms} ms`, { service });
      else store.addEvent(env, 'boot-failed', `${service}: ${bad.length} of ${mine.length} instance(s) not healthy after a restart (${bad[0]}); the supervisor keeps retrying`, { service });
      log.info({ environment: env, service, instances: mine.length, failed: bad.length, ms }, 'boot restore');
    }
  }
  return { restored, failed };
}
