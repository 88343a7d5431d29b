import { resolve } from 'node:path';
import { DEFAULT_HEALTH, describeHealthCheck, hasProbe, resolveHealthCheck } from '../health/check.js';
import type { HealthCheck } from '../health/types.js';
import type { AppServiceSpec } from '../spec/schema.js';
import type { HealthRule, InstanceDraft, KindContext, ServiceKind } from './types.js';

/**
 * The health rule of an app and where it comes from. Works from the spec and
 * the resolved check alone, so the executor can name it in a failed gate.
 */
export function appHealthRule(ctx: Pick<KindContext, 'service' | 'spec'>, check: HealthCheck | null): HealthRule {
  const spec = ctx.spec as AppServiceSpec;
  const at = `services.${ctx.service}.health`;
  const described = check ? describeHealthCheck(check) : 'no check';
  const named = spec.health !== undefined && hasProbe({ http: spec.health.http, tcp: spec.health.tcp === true ? true : undefined, exec: spec.health.exec });
  if (named) return { rule: `${described} (${at})`, change: `change ${at}` };
  if (check && hasProbe(check)) {
    const why = spec.listens === true ? `listens: true` : `a route targets ${ctx.service}`;
    return {
      rule: `${described} (default: ${why})`,
      change: `make it listen on $PORT, or set ${at} to { http: /path } or { exec: "cmd" }, or to { tcp: false } to judge it by its process staying up`,
    };
  }
  const why = spec.health?.tcp === false ? `${at}.tcp is false` : 'nothing routes to it and it declares no probe';
  return { rule: `${described} (${why})`, change: `set ${at}.settle, or a probe in ${at} ({ http: /path }, { tcp: true } or { exec: "cmd" })` };
}

/**
 * A stateless app run by the process runtime. Its release holds one instance
 * template (ordinal `0`); replicas are copies with their own ordinal and port.
 * Default health fits the service: an app a route targets (or with
 * `listens: true`) is probed over TCP on its port; any other app (a worker, a
 * queue consumer) is healthy once its process has stayed up the settle time.
 */
export const appKind: ServiceKind = {
  name: 'app',
  stablePorts: () => [],
  instances(ctx: KindContext): InstanceDraft[] {
    const spec = ctx.spec as AppServiceSpec;
    return [{ ordinal: '0', command: spec.run ?? '', cwd: resolve(ctx.stackDir, spec.dir ?? '.'), env: { ...(spec.env ?? {}) } }];
  },
  attributes: () => ({}),
  replaceMode: () => 'blue-green',
  health(ctx) {
    const spec = ctx.spec as AppServiceSpec;
    const listens = spec.listens ?? ctx.routed === true;
    return resolveHealthCheck(spec.health, listens ? { ...DEFAULT_HEALTH, probe: { tcp: true } } : DEFAULT_HEALTH);
  },
  healthRule: appHealthRule,
};
