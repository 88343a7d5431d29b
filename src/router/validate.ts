import { z } from 'zod';
import { RouteInvalidError } from './errors.js';
import type { RouteConfig, RouterConfig } from './types.js';

const UpstreamSchema = z.strictObject({
  id: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const BackendSchema = z.strictObject({
  release: z.string().min(1),
  weight: z.number().int().min(0).max(100),
  upstreams: z.array(UpstreamSchema),
});

const RouteSchema = z.strictObject({
  id: z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only'),
  listen: z.number().int().min(1).max(65535),
  host: z.string().min(1).optional(),
  pathPrefix: z.string().startsWith('/').optional(),
  timeoutMs: z.number().int().positive().optional(),
  sticky: z.enum(['cookie', 'hash']).nullable().optional(),
  healthPath: z.string().startsWith('/').optional(),
  backends: z.array(BackendSchema),
});

const ConfigSchema = z.strictObject({
  version: z.number().int().min(0),
  routes: z.array(z.unknown()),
});

/** Check a route sent by a client; throws RouteInvalidError listing every problem. */
export function parseRoute(input: unknown): RouteConfig {
  const idGuess = typeof input === 'object' && input !== null && 'id' in input ? String(input.id) : '';
  const parsed = RouteSchema.safeParse(input);
  if (!parsed.success) {
    throw new RouteInvalidError(
      idGuess,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(route)'}: ${i.message}`),
    );
  }
  const route = parsed.data;
  const problems: string[] = [];
  const total = route.backends.reduce((sum, b) => sum + b.weight, 0);
  if (total !== 100 && total !== 0) problems.push(`backend weights sum to ${total}, not 100 (or all 0)`);
  const releases = new Set<string>();
  for (const b of route.backends) {
    if (releases.has(b.release)) problems.push(`release ${b.release} appears twice`);
    releases.add(b.release);
    if (b.weight > 0 && b.upstreams.length === 0) problems.push(`release ${b.release} has weight ${b.weight} but no upstreams`);
  }
  if (problems.length > 0) throw new RouteInvalidError(route.id, problems);
  return route;
}

/** Check a whole config (as read from disk); returns problems instead of throwing on the first. */
export function parseConfig(input: unknown): RouterConfig {
  const parsed = ConfigSchema.parse(input);
  return { version: parsed.version, routes: parsed.routes.map(parseRoute) };
}

/** True when two routes on the same port would match the same requests. */
export function sameMatch(a: RouteConfig, b: RouteConfig): boolean {
  return a.listen === b.listen && (a.host ?? '') === (b.host ?? '') && (a.pathPrefix ?? '/') === (b.pathPrefix ?? '/');
}
