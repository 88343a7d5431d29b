import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SymphonyError, describeError } from '../errors.js';
import type { ControlPlane } from './control-plane.js';
import { RouteInvalidError } from './errors.js';

/** Largest control request body accepted (a route with many upstreams fits easily). */
const MAX_BODY = 1 << 20;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new RouteInvalidError('', [`control request body over ${MAX_BODY} bytes`]));
      else parts.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch {
        reject(new RouteInvalidError('', ['control request body is not JSON']));
      }
    });
    req.on('error', reject);
  });
}

function statusOf(err: unknown): number {
  if (!(err instanceof SymphonyError)) return 500;
  if (err.code === 'route_not_found') return 404;
  if (err.code === 'router_listen') return 409;
  return 400;
}

/** What `GET /ping` answers: the leader's pid and start, and every router process serving. */
export interface RouterInfo {
  pid: number;
  version: number;
  startedAt: string;
  /** Times a follower took over from a dead leader in this router dir. */
  takeovers: number;
  /** Pids of the processes accepting on the listening sockets, the leader first. */
  peers: number[];
  /** Followers this leader replaced after they died. */
  followersReplaced: number;
  /** Ports the leader accepts on (a route whose port is missing here could not open it). */
  listening: number[];
}

/**
 * The control API, HTTP on a unix socket:
 * GET /ping, GET /config, GET /stats, PUT /routes/:id, DELETE /routes/:id,
 * POST /routes/:id/pause {timeoutMs}, POST /routes/:id/resume, POST /releases/:release/close-long-lived.
 */
export function createControlServer(plane: ControlPlane, info: () => RouterInfo): Server {
  const handle = async (req: IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? '/', 'http://router');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const [head, name, action] = parts;
    if (method === 'GET' && head === 'ping') return [200, info()];
    if (method === 'GET' && head === 'config') return [200, plane.getConfig()];
    if (method === 'GET' && head === 'stats') return [200, await plane.snapshotStats()];
    if (head === 'routes' && name !== undefined) {
      if (method === 'PUT' && action === undefined) {
        const body = await readJson(req);
        if (typeof body === 'object' && body !== null && 'id' in body && body.id !== name) {
          throw new RouteInvalidError(name, [`the body names route ${String(body.id)}, the URL ${name}`]);
        }
        await plane.setRoute(body);
        return [200, { ok: true, version: plane.getConfig().version }];
      }
      if (method === 'DELETE' && action === undefined) {
        await plane.removeRoute(name);
        return [200, { ok: true, version: plane.getConfig().version }];
      }
      if (method === 'POST' && action === 'pause') {
        const body = await readJson(req);
        const timeoutMs = typeof body === 'object' && body !== null && 'timeoutMs' in body ? Number(body.timeoutMs) : NaN;
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RouteInvalidError(name, ['pause needs a positive timeoutMs']);
        await plane.pause(name, timeoutMs);
        return [200, { ok: true }];
      }
      if (method === 'POST' && action === 'resume') return [200, { ok: true, released: await plane.resume(name) }];
    }
    if (method === 'POST' && head === 'releases' && name !== undefined && action === 'close-long-lived') {
      return [200, { closed: await plane.closeLongLived(name) }];
    }
    return [404, { code: 'not_found', error: `no control endpoint ${method} ${url.pathname}`, hint: 'see docs/router.md for the control API' }];
  };
  return createServer((req, res) => {
    handle(req).then(
      ([status, body]) => send(res, status, body),
      (err: unknown) => send(res, statusOf(err), describeError(err)),
    );
  });
}
