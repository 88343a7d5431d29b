import { resolve } from 'node:path';
import type { HealthCheck } from '../health/types.js';
import type { AppServiceSpec } from '../spec/schema.js';
import { parseDuration } from '../util/duration.js';
import type { InstanceDraft, KindContext, ServiceKind } from './types.js';

/** Health defaults of an app instance (documented in docs/stack-file.md). */
export function appHealth(spec: AppServiceSpec['health']): HealthCheck {
  const h = spec ?? {};
  const any = h.http !== undefined || h.exec !== undefined || h.tcp !== undefined;
  return {
    http: h.http,
    exec: h.exec,
    tcp: any ? h.tcp : true,
    intervalMs: parseDuration(h.interval, 1000),
    timeoutMs: parseDuration(h.timeout, 2000),
    healthyThreshold: h.healthy_threshold ?? 1,
    unhealthyThreshold: h.unhealthy_threshold ?? 3,
    startTimeoutMs: parseDuration(h.start_timeout, 60_000),
  };
}

/**
 * A stateless app run by the process runtime. Its release holds one instance
 * template (ordinal `0`); replicas are copies with their own ordinal and port.
 */
export const appKind: ServiceKind = {
  name: 'app',
  stablePorts: () => [],
  instances(ctx: KindContext): InstanceDraft[] {
    const spec = ctx.spec as AppServiceSpec;
    return [{ ordinal: '0', command: spec.run, cwd: resolve(ctx.stackDir, spec.dir ?? '.'), env: { ...(spec.env ?? {}) } }];
  },
  attributes: () => ({}),
  replaceMode: () => 'blue-green',
  health: (ctx) => appHealth((ctx.spec as AppServiceSpec).health),
};
