import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { LiveBackend, LiveRoute, LiveTable } from './live-table.js';
import type { LongLivedSet } from './long-lived.js';
import type { RoutePauses } from './pause.js';
import { hashTicket, hostName, matchRoute, pickByWeight, readCookie, stickyBackend } from './table.js';

/** What the request path reads: the current table snapshot, pauses and long-lived connections. */
export interface DataPlaneView {
  table: LiveTable;
  readonly pauses: RoutePauses;
  readonly longLived: LongLivedSet;
}

/** The route of a request arriving on `port`, under one table snapshot. */
export function findRoute(table: LiveTable, port: number, req: IncomingMessage): LiveRoute | undefined {
  const entry = table.ports.get(port);
  if (!entry) return undefined;
  return matchRoute(entry.routes, entry.byHost ? hostName(req.headers.host) : '', req.url ?? '/');
}

/** The release that takes this request: sticky cookie or client hash when asked, else a weighted draw. */
export function chooseBackend(route: LiveRoute, req: IncomingMessage): LiveBackend | undefined {
  if (route.sticky === 'cookie') {
    const wanted = readCookie(req.headers.cookie, route.cookieName);
    const kept = wanted === undefined ? undefined : stickyBackend(route.backends, wanted);
    if (kept) return kept;
  } else if (route.sticky === 'hash') {
    return pickByWeight(route.backends, hashTicket(req.socket.remoteAddress ?? ''));
  }
  return route.sole ?? pickByWeight(route.backends, Math.random() * 100);
}

/** `Set-Cookie` value pinning the client to `release`, or null when its cookie already says so. */
export function stickyCookie(route: LiveRoute, req: IncomingMessage, release: string): string | null {
  if (route.sticky !== 'cookie') return null;
  if (readCookie(req.headers.cookie, route.cookieName) === release) return null;
  return `${route.cookieName}=${encodeURIComponent(release)}; Path=/; HttpOnly; SameSite=Lax`;
}

/**
 * Request headers for the upstream: hop-by-hop headers removed (unless `keepUpgrade`),
 * X-Forwarded-For appended, X-Forwarded-Proto and -Host set. Mutates and returns `req.headers`.
 */
export function forwardHeaders(req: IncomingMessage, keepUpgrade: boolean): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = req.headers;
  const connection = req.headers.connection;
  if (connection !== undefined) {
    if (!keepUpgrade) {
      for (const token of connection.split(',')) {
        const name = token.trim().toLowerCase();
        if (name !== 'keep-alive' && name !== 'close' && name !== '') delete h[name];
      }
      delete h.connection;
    }
  }
  if (h['keep-alive'] !== undefined) delete h['keep-alive'];
  if (h['proxy-connection'] !== undefined) delete h['proxy-connection'];
  const ip = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  h['x-forwarded-for'] = prior ? `${prior}, ${ip}` : ip;
  h['x-forwarded-proto'] = 'http';
  if (req.headers.host !== undefined) h['x-forwarded-host'] = req.headers.host;
  return h;
}

/** Error codes that mean the connection was never made: nothing was sent, retrying is always safe. */
export const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

export function isIdempotent(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE' || method === 'TRACE';
}

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
