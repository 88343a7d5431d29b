import type { IncomingMessage } from 'node:http';
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
export function findRoute(table: LiveTable, port: number, host: string | undefined, url: string): LiveRoute | undefined {
  const entry = table.ports.get(port);
  if (!entry) return undefined;
  return matchRoute(entry.routes, entry.byHost ? hostName(host) : '', url);
}

/** The release that takes this request: sticky cookie or client hash when asked, else a weighted draw. */
export function chooseBackend(route: LiveRoute, cookie: string | undefined, remoteAddress: string): LiveBackend | undefined {
  if (route.sticky === 'cookie') {
    const wanted = readCookie(cookie, route.cookieName);
    const kept = wanted === undefined ? undefined : stickyBackend(route.backends, wanted);
    if (kept) return kept;
  } else if (route.sticky === 'hash') {
    return pickByWeight(route.backends, hashTicket(remoteAddress));
  }
  return route.sole ?? pickByWeight(route.backends, Math.random() * 100);
}

/** `Set-Cookie` value pinning the client to `release`, or null when its cookie already says so. */
export function stickyCookie(route: LiveRoute, cookie: string | undefined, release: string): string | null {
  if (route.sticky !== 'cookie') return null;
  if (readCookie(cookie, route.cookieName) === release) return null;
  return `${route.cookieName}=${encodeURIComponent(release)}; Path=/; HttpOnly; SameSite=Lax`;
}

/** Request headers that must not be forwarded: hop-by-hop, or set by the router itself. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** What the upstream is sent: headers as a flat name/value list, and whether a body follows. */
export interface ForwardedRequest {
  headers: string[];
  withBody: boolean;
}

/**
 * Request headers for the upstream, read from `req.rawHeaders` (no header object is built):
 * hop-by-hop headers and those the Connection header names removed, X-Forwarded-For
 * appended, X-Forwarded-Proto and -Host set.
 */
export function forwardRequest(req: IncomingMessage): ForwardedRequest {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  let xff = '';
  let host: string | undefined;
  let named: string[] | null = null;
  let withBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (DROPPED_REQUEST_HEADERS.has(name)) {
      if (name === 'transfer-encoding') withBody = true;
      else if (name === 'connection') named = connectionTokens(value, named);
      continue;
    }
    if (name === 'x-forwarded-for') {
      xff = xff === '' ? value : `${xff}, ${value}`;
      continue;
    }
    if (name === 'host') host = value;
    else if (name === 'content-length') withBody = value !== '0';
    headers.push(raw[i], value);
  }
  if (named !== null) {
    for (let i = headers.length - 2; i >= 0; i -= 2) if (named.includes(headers[i].toLowerCase())) headers.splice(i, 2);
  }
  const ip = req.socket.remoteAddress ?? '';
  headers.push('x-forwarded-for', xff === '' ? ip : `${xff}, ${ip}`, 'x-forwarded-proto', 'http');
  if (host !== undefined) headers.push('x-forwarded-host', host);
  return { headers, withBody };
}

function connectionTokens(value: string, into: string[] | null): string[] | null {
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return into;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== 'keep-alive' && name !== 'close' && name !== '') (into ??= []).push(name);
  }
  return into;
}

/** Error codes that mean the connection was never made: nothing was sent, retrying is always safe. */
export const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

export function isIdempotent(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE' || method === 'TRACE';
}
