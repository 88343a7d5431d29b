import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { CONNECT_ERRORS, chooseBackend, findRoute, forwardRequest, isIdempotent, stickyCookie, type DataPlaneView } from './dispatch.js';
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
    const route = findRoute(plane.table, port, req.headers.host, req.url ?? '/');
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
    const backend = chooseBackend(route, req.headers.cookie, req.socket.remoteAddress ?? '');
    if (backend === undefined) {
      reply(res, 503, `symphony router: route ${route.id} has no release taking traffic (all weights are 0)\n`);
      return;
    }
    new Exchange(req, res, route, backend, plane).attempt();
  };
  return onRequest;
}

/** Response headers that are hop-by-hop: the client connection has its own. */
function isHopByHop(lowerName: string): boolean {
  return lowerName === 'connection' || lowerName === 'keep-alive' || lowerName === 'transfer-encoding';
}

/**
 * One request through the router: upstream choice, retries, timeout, response streaming,
 * accounting. It is its own undici dispatch handler (the onConnect/onHeaders/onData form,
 * which undici 7 runs without a wrapping controller or a parsed header object per request);
 * at most one attempt is outstanding.
 */
class Exchange implements LongLivedConnection, Dispatcher.DispatchHandler {
  readonly release: string;
  readonly counters: LiveBackend['counters'];
  private readonly start = performance.now();
  private readonly headers: string[];
  private readonly withBody: boolean;
  private upstream: UpstreamState | null = null;
  /** Aborts the current attempt; null before undici has put it on a connection. */
  private abortAttempt: ((err?: Error) => void) | null = null;
  private attemptOpen = false;
  private responded = false;
  private tried: UpstreamState[] | null = null;
  private retriedOnce = false;
  private timer: NodeJS.Timeout | null = null;
  /** The exchange is over for the upstream side (timeout, client gone, stream closed): ignore late callbacks. */
  private abandoned = false;
  private streaming = false;
  private resumeUpstream: (() => void) | null = null;
  private waitingDrain = false;

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
    const forwarded = forwardRequest(req);
    this.headers = forwarded.headers;
    this.withBody = forwarded.withBody;
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
    this.abortAttempt = null;
    this.attemptOpen = true;
    u.inFlight++;
    if (this.timer === null) this.timer = setTimeout(() => this.onTimeout(), this.route.timeoutMs);
    u.pool.dispatch(
      { path: this.req.url ?? '/', method: this.req.method ?? 'GET', headers: this.headers, body: this.withBody ? this.req : null },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortAttempt = abort;
    if (this.abandoned) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.abandoned) return false;
    if (statusCode < 200) return true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.responded = true;
    this.resumeUpstream = resume;
    const out: string[] = [];
    let eventStream = false;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString('latin1');
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) continue;
      const value = rawHeaders[i + 1].toString('latin1');
      if (lower === 'content-type' && value.startsWith('text/event-stream')) eventStream = true;
      out.push(name, value);
    }
    const cookie = stickyCookie(this.route, this.req.headers.cookie, this.release);
    if (cookie !== null) out.push('set-cookie', cookie);
    this.res.writeHead(statusCode, out);
    if (eventStream) {
      this.res.flushHeaders();
      this.streaming = true;
      this.plane.longLived.add(this);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.abandoned) return false;
    if (this.res.write(chunk)) return true;
    if (!this.waitingDrain) {
      this.waitingDrain = true;
      this.res.once('drain', () => {
        this.waitingDrain = false;
        this.resumeUpstream?.();
      });
    }
    return false;
  }

  onComplete(): void {
    this.endAttempt();
    if (!this.abandoned) this.res.end();
  }

  onError(err: Error): void {
    const u = this.upstream;
    this.endAttempt();
    if (this.abandoned || u === null) return;
    if (this.responded) {
      this.res.destroy();
      return;
    }
    const code = (err as NodeJS.ErrnoException).code ?? '';
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

  private endAttempt(): void {
    if (!this.attemptOpen) return;
    this.attemptOpen = false;
    if (this.upstream !== null) this.upstream.inFlight--;
  }

  /** Stop the upstream side: late callbacks are ignored, the attempt is aborted once it has a connection. */
  private abandon(): void {
    this.abandoned = true;
    if (this.attemptOpen && this.abortAttempt !== null) this.abortAttempt();
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.responded || this.res.destroyed) return;
    this.abandon();
    const where = this.upstream ? this.upstream.key : 'no upstream';
    reply(this.res, 504, `symphony router: upstream ${where} of release ${this.release} sent no response within ${this.route.timeoutMs} ms on route ${this.route.id}\n`);
  }

  /** Graceful end of an SSE stream (closeLongLived): end the response, then drop the upstream. */
  close(): void {
    this.abandon();
    this.res.end();
  }

  private finish(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.streaming) this.plane.longLived.delete(this);
    const res = this.res;
    if (!res.writableFinished) this.abandon();
    this.counters.inFlight--;
    this.counters.record(this.start, res.writableFinished ? res.statusCode : 0);
  }
}
