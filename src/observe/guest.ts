import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentGuest, GuestContext } from '../agent/guest.js';
import { describeError, SymphonyError } from '../errors.js';
import { collect } from './collect.js';
import { serviceFigures, type ServiceFigures } from './figures.js';
import { observe } from './gather.js';
import type { Observation } from './model.js';
import { familyRegistry } from './registry.js';
import { MetricsListeners } from './server.js';
import { allRecordedMetrics, recordMetrics, recordedMetrics } from './settings.js';
import { formatListen, parseListen, type ListenAddress } from './spec.js';

const EMPTY: Observation = { at: 0, instances: [], services: [], http: { bucketsS: [], releases: [], window: [], windowS: 30 }, operations: [], backups: [], pipelineRuns: [] };
/** `symphony metrics` measures CPU over at least this long (it samples twice when no scrape is recent). */
const CPU_SPAN_MS = 1000;

/** What `POST /v1/observe` answers: where this environment's metrics are served now. */
export interface ObserveAnswer {
  env: string;
  metrics: string | null;
  changed: boolean;
}

/** What `GET /v1/metrics` answers: `symphony metrics`' figures. */
export interface MetricsAnswer {
  windowS: number;
  cpuSpanS: number;
  services: ServiceFigures[];
}

/**
 * Metrics as a guest of the agent: `/metrics` in Prometheus' text format on the
 * addresses the stack files asked for (`observability.metrics`, handed over by
 * `apply`), and the per-service figures of `symphony metrics` over the socket.
 * Each scrape reads one observation (./gather.ts) and runs the pure collectors.
 */
export function observeGuest(): AgentGuest {
  let host: GuestContext | null = null;
  let last: Observation | null = null;
  const deps = () => {
    if (!host) throw new SymphonyError('metrics are not started in this agent');
    return host.deps;
  };
  const take = async (): Promise<Observation> => (last = await observe(deps()));
  const { registry, scrape } = familyRegistry(collect(EMPTY), async () => collect(await take()));
  const listeners = new MetricsListeners(scrape, registry.contentType);
  const wanted = (extra?: { env: string; metrics: ListenAddress | null }): ListenAddress[] => {
    const all = allRecordedMetrics(deps().store).filter((r) => r.env !== extra?.env);
    return [...all.map((r) => r.metrics), ...(extra?.metrics ? [extra.metrics] : [])];
  };

  return {
    name: 'observe',
    routes: [
      {
        method: 'POST',
        pattern: /^\/v1\/observe$/,
        handler: async (_m, _r, raw): Promise<ObserveAnswer> => {
          const body = (raw ?? {}) as { env?: string; metrics?: string | null };
          const env = body.env ?? 'default';
          let metrics: ListenAddress | null = null;
          if (body.metrics) {
            const parsed = parseListen(body.metrics);
            if (typeof parsed === 'string') throw new SymphonyError(`observability.metrics ${parsed}`, 'fix it in the stack file');
            metrics = parsed;
          }
          const before = recordedMetrics(deps().store, env);
          await listeners.sync(wanted({ env, metrics }));
          recordMetrics(deps().store, env, metrics);
          const now = metrics ? formatListen(metrics) : null;
          return { env, metrics: now, changed: now !== (before ? formatListen(before) : null) };
        },
      },
      {
        method: 'GET',
        pattern: /^\/v1\/metrics$/,
        handler: async (_m, _r, _b, url): Promise<MetricsAnswer> => {
          let before = last && Date.now() - last.at >= CPU_SPAN_MS && Date.now() - last.at < 60_000 ? last : null;
          if (!before) {
            before = await take();
            await sleep(CPU_SPAN_MS);
          }
          const now = await take();
          const filter = { env: url.searchParams.get('env') ?? 'default', service: url.searchParams.get('service') ?? undefined };
          return { windowS: now.http.windowS, cpuSpanS: (now.at - before.at) / 1000, services: serviceFigures(now, before, filter) };
        },
      },
    ],
    async start(h) {
      host = h;
      // Each recorded address on its own: one that cannot be opened (taken meanwhile) does not keep the others shut.
      const open: ListenAddress[] = [];
      for (const r of allRecordedMetrics(h.deps.store)) {
        try {
          await listeners.sync([...open, r.metrics]);
          open.push(r.metrics);
        } catch (err) {
          h.deps.log.error({ env: r.env, err: describeError(err).error }, 'metrics listener failed');
          h.deps.store.addEvent(r.env, 'metrics-failed', `${describeError(err).error}; apply again once it is free`);
        }
      }
    },
    async stop() {
      await listeners.closeAll();
      host = null;
    },
  };
}
