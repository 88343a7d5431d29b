import type { ExecDeps } from '../apply/context.js';
import { isRunning } from '../apply/instances.js';
import { SymphonyError } from '../errors.js';
import type { Plan, ReleaseConfig } from '../plan/types.js';
import type { InstanceRecord, ServiceRecord } from '../state/types.js';
import { autoscaleOf, clamp, type AutoscaleConfig } from './config.js';
import { makeScalePlan, stackOfEnv } from './plan.js';

export interface ScaledService {
  env: string;
  service: ServiceRecord;
  release: string;
  config: ReleaseConfig;
  /** Null when the service has no `autoscale:` (it can still be scaled by hand). */
  autoscale: AutoscaleConfig | null;
  /** Running instances of the live release. */
  instances: InstanceRecord[];
}

/** An app service's live release and its running instances. */
export function scaledService(deps: ExecDeps, env: string, name: string): ScaledService | null {
  const service = deps.store.service(env, name);
  if (!service?.currentRelease) return null;
  const config = deps.store.release(service.currentRelease)?.config as ReleaseConfig | undefined;
  if (!config || config.kind !== 'app') return null;
  const instances = deps.store.instances(env, { release: service.currentRelease, live: true }).filter((i) => i.status !== 'stopping' && isRunning(deps, i));
  return { env, service, release: service.currentRelease, config, autoscale: autoscaleOf(config.spec), instances };
}

/** Every app with `autoscale:` at its live release, in every environment of the state dir. */
export function autoscaledServices(deps: ExecDeps): ScaledService[] {
  return deps.store.envs().flatMap((env) =>
    deps.store
      .services(env)
      .map((s) => (s.kind === 'app' ? scaledService(deps, env, s.name) : null))
      .filter((s): s is ScaledService => s?.autoscale != null),
  );
}

/** When the service was last scaled (the newest `scale` operation), ms, or null. */
export function lastScaleAt(deps: ExecDeps, env: string, service: string): number | null {
  const op = deps.journal.list(env, 50).find((o) => o.kind === 'scale' && (o.plan as Plan).steps[0]?.service === service);
  return op ? Date.parse(op.createdAt) : null;
}

/**
 * The plan that scales `s` to `want` replicas (clamped to min/max when it
 * autoscales), and the count it goes to. Throws when there is nothing to do.
 */
export function scalePlanFor(deps: ExecDeps, s: ScaledService, want: number, reason: string): { plan: Plan; to: number; clamped: boolean } {
  const to = s.autoscale ? clamp(s.autoscale, want) : want;
  const from = s.instances.length;
  if (to === from) {
    const why = to !== want ? ` (${want} is outside autoscale min ${s.autoscale!.min} / max ${s.autoscale!.max})` : '';
    throw new SymphonyError(`${s.service.name} already runs ${from} replica${from === 1 ? '' : 's'}${why}`, `see it with: symphony status`);
  }
  const where = stackOfEnv(deps.journal.list(s.env, 20));
  if (!where) throw new SymphonyError(`environment ${s.env} has no recorded operation to take its stack from`, 'apply the stack first: symphony apply');
  const plan = makeScalePlan({ ...where, env: s.env, serial: deps.store.serial(), service: s.service, config: s.config, from, to, reason });
  return { plan, to, clamped: to !== want };
}
