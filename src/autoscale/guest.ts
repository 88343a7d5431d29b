import type { AgentGuest, GuestContext } from '../agent/guest.js';
import type { Route } from '../agent/http.js';
import { describeError, LockHeldError, SymphonyError } from '../errors.js';
import { averageUsage, readCpu, type CpuReading } from './cpu.js';
import { decide, type Recommendation, type Sample } from './decide.js';
import { autoscaledServices, lastScaleAt, scaledService, scalePlanFor, type ScaledService } from './service.js';

/** How often the controller looks at the clock; each service is sampled at its own `interval`. */
const TICK_MS = 1000;

interface Watch {
  release: string;
  count: number;
  reading: CpuReading | null;
  samples: Sample[];
  recommendations: Recommendation[];
  nextAt: number;
  /** When the service was last scaled: read from the journal when the watch starts (any scaling changes the count and restarts it). */
  lastScaleAt: number | null;
}

/**
 * Autoscaling as a guest of the agent: every app with `autoscale:` is
 * sampled at its interval (CPU of each instance's process group, /proc),
 * `decide` is asked, and a decision becomes a `scale` operation under the
 * environment's lease like any other. A deploy that holds the lease wins:
 * the decision waits for the next interval. Samples start over after any
 * change of release or count, so a decision always reads the current
 * replicas. Also the socket API of `symphony scale`.
 */
export function autoscaleGuest(): AgentGuest {
  let host: GuestContext | null = null;
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;
  const watches = new Map<string, Watch>();

  const submitScale = (h: GuestContext, s: ScaledService, want: number, reason: string, requester: string) => {
    const { plan, to, clamped } = scalePlanFor(h.deps, s, want, reason);
    const op = h.operations.submit({ plan, requester });
    h.deps.store.addEvent(s.env, 'scaled', `scaled ${s.service.name} ${s.instances.length} → ${to}: ${reason}${clamped ? ` (asked ${want}, kept within min ${s.autoscale!.min} / max ${s.autoscale!.max})` : ''}`, { service: s.service.name });
    watches.delete(`${s.env}/${s.service.name}`);
    return { operation: op.id, from: s.instances.length, to, clamped };
  };

  const observe = (h: GuestContext, s: ScaledService, now: number): void => {
    const cfg = s.autoscale!;
    const key = `${s.env}/${s.service.name}`;
    let w = watches.get(key);
    if (!w || w.release !== s.release || w.count !== s.instances.length) {
      w = { release: s.release, count: s.instances.length, reading: null, samples: [], recommendations: w?.recommendations ?? [], nextAt: now, lastScaleAt: lastScaleAt(h.deps, s.env, s.service.name) };
      watches.set(key, w);
    }
    if (now < w.nextAt) return;
    w.nextAt = now + cfg.intervalMs;
    const reading = readCpu(new Map(s.instances.filter((i) => i.pid !== null).map((i) => [i.id, i.pid as number])), now);
    const usage = w.reading ? averageUsage(w.reading, reading) : null;
    w.reading = reading;
    if (usage === null) return;
    w.samples = [...w.samples, { at: now, cpu: usage }].slice(-Math.max(cfg.periods, 1));
    const d = decide(cfg, { current: s.instances.length, samples: w.samples, lastScaleAt: w.lastScaleAt, recommendations: w.recommendations }, now);
    if (d.recommendation) w.recommendations = [...w.recommendations.filter((r) => r.at > now - Math.max(cfg.cooldownDownMs, cfg.cooldownUpMs)), d.recommendation];
    if (!d.decision) return;
    if (h.operations.busy()) return void h.deps.log.info({ service: s.service.name, decision: d.decision }, 'autoscale waits: an operation runs');
    try {
      submitScale(h, s, d.decision.to, d.decision.reason, 'autoscale');
    } catch (err) {
      // Another holder of the lease (a CLI's apply starting): try again next interval.
      if (!(err instanceof LockHeldError)) throw err;
      h.deps.log.info({ service: s.service.name }, 'autoscale waits: the lease is held');
    }
  };

  const tick = (): void => {
    const h = host;
    if (!h || ticking) return;
    ticking = true;
    try {
      const now = Date.now();
      for (const s of autoscaledServices(h.deps)) {
        try {
          observe(h, s, now);
        } catch (err) {
          h.deps.log.warn({ service: s.service.name, err: describeError(err).error }, 'autoscale failed');
        }
      }
    } finally {
      ticking = false;
    }
  };

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/v1\/scale$/,
      handler: async (_m, _r, raw) => {
        const body = raw as { env?: string; service?: string; replicas?: number } | null;
        if (!host) throw new SymphonyError('autoscaling is not started in this agent');
        if (!body?.service || !Number.isInteger(body.replicas) || (body.replicas as number) < 0) throw new SymphonyError('scale needs a service and a replica count >= 0', 'symphony scale <service> <n>');
        const env = body.env ?? 'default';
        const s = scaledService(host.deps, env, body.service);
        if (!s) throw new SymphonyError(`${body.service} is not a deployed app in environment ${env}`, 'see what runs with: symphony status');
        return submitScale(host, s, body.replicas as number, 'symphony scale', 'symphony scale');
      },
    },
  ];

  return {
    name: 'autoscale',
    routes,
    start(h) {
      host = h;
      timer = setInterval(tick, TICK_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      host = null;
    },
  };
}
