import { createHash } from 'node:crypto';

/** Labels every Symphony container carries: a restarted agent finds its instances by them. */
export const LABEL = {
  scope: 'org.symphony.scope',
  service: 'org.symphony.service',
  release: 'org.symphony.release',
  instance: 'org.symphony.instance',
  port: 'org.symphony.port',
} as const;

/**
 * The engine-wide unique name of an instance's container: instance ids are
 * unique within a state dir only, so the name carries a hash of the scope.
 */
export function containerName(scope: string, instance: string): string {
  const h = createHash('sha256').update(scope).digest('hex').slice(0, 10);
  return `sym-${h}-${instance}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

/** Label filter of one scope (for `GET /containers/json?filters=…`). */
export function scopeFilter(scope: string): { label: string[] } {
  return { label: [`${LABEL.scope}=${scope}`] };
}
