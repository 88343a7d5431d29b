import { request } from 'node:http';
import { RouterRequestError, RouterUnavailableError } from './errors.js';
import type { RouterInfo } from './control.js';
import type { RouteConfig, RouterConfig, RouterStats } from './types.js';

/** Typed client of the router's control socket. Used by the agent, the strategies and the CLI. */
export class RouterClient {
  constructor(readonly socketPath: string) {}

  getConfig(): Promise<RouterConfig> {
    return this.call<RouterConfig>('GET', '/config');
  }

  /** Replace (or add) one route atomically; a new listen port is opened first. */
  async setRoute(route: RouteConfig): Promise<void> {
    await this.call('PUT', `/routes/${encodeURIComponent(route.id)}`, route);
  }

  async removeRoute(id: string): Promise<void> {
    await this.call('DELETE', `/routes/${encodeURIComponent(id)}`);
  }

  /** Traffic per route and release: in flight, totals, window error counts and latency percentiles. */
  stats(): Promise<RouterStats> {
    return this.call<RouterStats>('GET', '/stats');
  }

  /** End the release's WebSocket tunnels (close 1001) and SSE streams; returns how many. */
  async closeLongLived(release: string): Promise<number> {
    const r = await this.call<{ closed: number }>('POST', `/releases/${encodeURIComponent(release)}/close-long-lived`);
    return r.closed;
  }

  /** Hold new requests of a route until `resume` or `timeoutMs`, after which they proceed. */
  async pause(routeId: string, timeoutMs: number): Promise<void> {
    await this.call('POST', `/routes/${encodeURIComponent(routeId)}/pause`, { timeoutMs });
  }

  /** Let the held requests go; returns how many were held. */
  async resume(routeId: string): Promise<number> {
    const r = await this.call<{ released: number }>('POST', `/routes/${encodeURIComponent(routeId)}/resume`);
    return r.released;
  }

  ping(): Promise<RouterInfo> {
    return this.call('GET', '/ping');
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          agent: false,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          timeout: 30_000,
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('error', (err) => reject(new RouterUnavailableError(this.socketPath, err.message)));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(parts).toString('utf8'));
            } catch {
              return reject(new RouterRequestError('router_bad_answer', `the router answered ${method} ${path} with non-JSON (status ${res.statusCode})`));
            }
            if ((res.statusCode ?? 500) >= 400) {
              const e = parsed as { code?: string; error?: string; hint?: string };
              return reject(new RouterRequestError(e.code ?? 'router_error', e.error ?? `status ${res.statusCode}`, e.hint));
            }
            resolve(parsed as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 30 s`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new RouterUnavailableError(this.socketPath, err.code ?? err.message)));
      req.end(payload);
    });
  }
}
