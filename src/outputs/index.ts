import { NotFoundError } from '../errors.js';
import type { KindContext, ServiceKind } from '../kinds/types.js';
import type { RouteRecord } from '../state/types.js';

/**
 * A service's outputs: how a client reaches it (a route's URL, a database
 * URL, a cluster's client endpoints) and the other values dependants can
 * reference, as `symphony status`, `apply` and `output` show them. Pure: the
 * values come from the kind's attributes and the recorded routes, with secret
 * placeholders (`${secrets.db.password}`) kept until they are masked or
 * revealed.
 */
export interface ServiceOutputs {
  /** The route's URL (apps) or the kind's `url` (postgres), secret parts masked. */
  url?: string;
  /** Client endpoints of a cluster (or every route of an app with several). */
  endpoints?: string[];
  /** Every named output, secret parts masked. */
  values: Record<string, string>;
}

/** What a secret part of an output shows instead of its value. */
export const MASK = '****';
const SECRET = /\$\{secrets\.[A-Za-z0-9_.-]+\}/g;

export function maskSecrets(text: string): string {
  return text.replace(SECRET, MASK);
}

/** The URL clients use for a route: the router listens on 127.0.0.1 and the route's port. */
export function routeUrl(r: Pick<RouteRecord, 'listen' | 'path'>): string {
  return `http://127.0.0.1:${r.listen}${r.path && r.path !== '/' ? r.path : ''}`;
}

/** Named outputs with secret placeholders left in (the kind's attributes, then its routes). */
export function rawOutputs(kind: ServiceKind, ctx: KindContext, routes: RouteRecord[]): Record<string, string> {
  const out: Record<string, string> = { ...kind.attributes(ctx) };
  const mine = routes.filter((r) => r.service === ctx.service);
  if (mine.length > 0) {
    out.url ??= routeUrl(mine[0]);
    out.host ??= '127.0.0.1';
    out.port ??= String(mine[0].listen);
    if (mine.length > 1) out.endpoints ??= mine.map(routeUrl).join(',');
  }
  return out;
}

/** Outputs as status shows them: masked, with `url` and `endpoints` picked out. */
export function maskedOutputs(raw: Record<string, string>): ServiceOutputs {
  const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, maskSecrets(v)]));
  const out: ServiceOutputs = { values };
  if (values.url !== undefined) out.url = values.url;
  if (values.endpoints !== undefined) out.endpoints = values.endpoints.split(',').filter(Boolean);
  return out;
}

/** The one value `symphony output <service>[.<name>]` prints: `url` (else `endpoints`) by default. */
export function pickOutput(service: string, raw: Record<string, string>, name?: string): { name: string; value: string } {
  const names = Object.keys(raw).sort();
  const chosen = name ?? (raw.url !== undefined ? 'url' : raw.endpoints !== undefined ? 'endpoints' : undefined);
  if (chosen === undefined || raw[chosen] === undefined) {
    const what = name === undefined ? `service ${service} has no url or endpoints` : `service ${service} has no output '${name}'`;
    throw new NotFoundError(
      `${what}${names.length ? `; its outputs: ${names.join(', ')}` : ' (nothing routes to it and its kind has no outputs)'}`,
      names.length ? `symphony output ${service}.${names[0]}` : 'route to it in the stack file (routes:), then symphony apply',
    );
  }
  return { name: chosen, value: raw[chosen] };
}
