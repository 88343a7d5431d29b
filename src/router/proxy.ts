import { request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CONNECT_ERRORS, chooseBackend, findRoute, forwardHeaders, hasBody, isIdempotent, stickyCookie, type DataPlaneView } from './dispatch.js';
import type { LiveBackend, LiveRoute } from './live-table.js';
import type { LongLivedConnection } from './long-lived.js';
import { pickUpstream } from './table.js';
import type { UpstreamState } from './upstreams.js';

/** Send a short plain-text answer of the router itself (404, 502, 503, 504). */
export function reply(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-symphony-router': 'error' });
  res.end(body);
}

/** The `request` handler of one listen port. */
export function createRequestHandler(port: number, plane: DataPlaneView): (req: IncomingMessage, res: ServerResponse) => void {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const route = findRoute(plane.table, port, req);
    if (route === undefined) {
      reply(res, 404, `symphony router: no route on port ${port} for host ${req.headers.host ?? '(none)'} and path ${req.url}\n`);
      return;
    }
    if (plane.pauses.size !== 0 && plane.pauses.isPaused(route.id)) {
      plane.pauses.wait(route.id, () => {
        if (!res.destroyed) onRequest(req, res);
      });
      return;
    }
    const backend = chooseBackend(route, req);
    if (backend === undefined) {
      reply(res, 503, `symphony router: route ${route.id} has no release taking traffic (all weights are 0)\n`);
      return;
    }
    new Exchange(req, res, route, backend, plane).attempt();
  };
  return onRequest;
}

/** One request through the router: upstream choice, retries, timeout, response streaming, accounting. */
class Exchange implements LongLivedConnection {
  readonly release: string;
  readonly counters: LiveBackend['counters'];
  private readonly start = performance.now();
  private readonly headers: OutgoingHttpHeaders;
  private readonly withBody: boolean;
  private upstream: UpstreamState | null = null;
  private upReq: ClientRequest | null = null;
  private upRes: IncomingMessage | null = null;
  private tried: UpstreamState[] | null = null;
  private retriedOnce = false;
  private timer: NodeJS.Timeout | null = null;
  private timedOut = false;
  private streaming = false;
  private endingStream = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: LiveRoute,
    private readonly backend: LiveBackend,
    private readonly plane: DataPlaneView,
  ) {
    this.release = backend.release;
    this.counters = backend.counters;
    this.counters.inFlight++;
    this.headers = forwardHeaders(req, false);
    this.withBody = hasBody(req);
    res.once('close', () => this.finish());
  }

  attempt(): void {
    const u = pickUpstream(this.backend.upstreams, this.backend.rotation++, this.tried);
    if (u === undefined) {
      const names = this.backend.upstreams.map((x) => x.key).join(', ') || 'none';
      reply(this.res, 502, `symphony router: no healthy upstream for route ${this.route.id}, release ${this.release} (tried: ${names})\n`);
      return;
    }
    this.upstream = u;
    u.inFlight++;
    const upReq = request({
      host: u.host,
      port: u.port,
      method: this.req.method,
      path: this.req.url,
      headers: this.headers,
      agent: u.agent,
      setHost: false,
    });
    this.upReq = upReq;
    upReq.once('close', () => u.inFlight--);
    upReq.on('error', (err: NodeJS.ErrnoException) => this.onUpstreamError(u, upReq, err));
    upReq.once('response', (upRes) => this.onResponse(upReq, upRes));
    if (this.timer === null) this.timer = setTimeout(() => this.onTimeout(), this.route.timeoutMs);
    if (!this.withBody) {
      upReq.end();
    } else {
      upReq.once('socket', (socket: Socket) => {
        if (socket.connecting) socket.once('connect', () => this.req.pipe(upReq));
        else this.req.pipe(upReq);
      });
    }
  }

  private onResponse(upReq: ClientRequest, upRes: IncomingMessage): void {
    if (upReq !== this.upReq || this.res.destroyed) {
      upRes.destroy();
      return;
    }
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.upRes = upRes;
    const h = upRes.headers;
    if (h.connection !== undefined) delete h.connection;
    if (h['keep-alive'] !== undefined) delete h['keep-alive'];
    if (h['transfer-encoding'] !== undefined) delete h['transfer-encoding'];
    const cookie = stickyCookie(this.route, this.req, this.release);
    if (cookie !== null) h['set-cookie'] = h['set-cookie'] ? [...h['set-cookie'], cookie] : [cookie];
    this.res.writeHead(upRes.statusCode ?? 502, h);
    const type = h['content-type'];
    if (type !== undefined && type.startsWith('text/event-stream')) {
      this.res.flushHeaders();
      this.streaming = true;
      this.plane.longLived.add(this);
    }
    upRes.on('error', () => this.upstreamBroke());
    upRes.on('aborted', () => this.upstreamBroke());
    upRes.pipe(this.res);
  }

  private onUpstreamError(u: UpstreamState, upReq: ClientRequest, err: NodeJS.ErrnoException): void {
    if (upReq !== this.upReq || this.timedOut || this.res.destroyed) return;
    if (this.upRes !== null) {
      this.res.destroy();
      return;
    }
    const code = err.code ?? '';
    if (CONNECT_ERRORS.has(code)) {
      u.markDown(`${code} on connect (passive check)`);
      (this.tried ??= []).push(u);
      this.attempt();
      return;
    }
    if (!this.retriedOnce && !this.withBody && isIdempotent(this.req.method)) {
      this.retriedOnce = true;
      this.tried = pickUpstream(this.backend.upstreams, this.backend.rotation, [u]) ? [u] : null;
      this.attempt();
      return;
    }
    reply(this.res, 502, `symphony router: upstream ${u.key} of release ${this.release} failed on route ${this.route.id}: ${code || err.message}\n`);
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.upRes !== null || this.res.destroyed) return;
    this.timedOut = true;
    this.upReq?.destroy();
    const where = this.upstream ? this.upstream.key : 'no upstream';
    reply(this.res, 504, `symphony router: upstream ${where} of release ${this.release} sent no response within ${this.route.timeoutMs} ms on route ${this.route.id}\n`);
  }

  private upstreamBroke(): void {
    if (!this.endingStream) this.res.destroy();
  }

  /** Graceful end of an SSE stream (closeLongLived): end the response, then drop the upstream. */
  close(): void {
    this.endingStream = true;
    if (this.upRes !== null) this.upRes.unpipe(this.res);
    this.res.end();
    this.upRes?.destroy();
  }

  private finish(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.streaming) this.plane.longLived.delete(this);
    const res = this.res;
    if (!res.writableFinished && this.upReq !== null) this.upReq.destroy();
    this.counters.inFlight--;
    this.counters.record(this.start, res.writableFinished ? res.statusCode : 0);
  }
}
