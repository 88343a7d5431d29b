import { resolve } from 'node:path';
import { DEFAULT_HEALTH, resolveHealthCheck } from '../health/check.js';
import type { AppServiceSpec } from '../spec/schema.js';
import type { InstanceDraft, KindContext, ServiceKind } from './types.js';

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
  health: (ctx) => resolveHealthCheck((ctx.spec as AppServiceSpec).health, { ...DEFAULT_HEALTH, probe: { tcp: true } }),
};
