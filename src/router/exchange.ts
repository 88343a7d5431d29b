import { performance } from 'node:perf_hooks';
import type { ConnUser, UpstreamConn } from './conn-pool.js';
import { CONNECT_ERRORS, isIdempotent, stickyCookie } from './dispatch.js';
import { ChunkedCursor } from './chunked.js';
import { assemble, headEnd, MAX_HEAD, parseResponseHead, type RequestHead, type ResponseHead } from './http1.js';
import type { LiveBackend, LiveRoute } from './live-table.js';
import type { LongLivedConnection } from './long-lived.js';
import { RequestBody } from './request-body.js';
import { routerReply, type ClientSide } from './client-conn.js';
import { pickUpstream } from './table.js';
import type { UpstreamState } from './upstreams.js';

const TERMINATOR = Buffer.from('0\r\n\r\n');
/** Time an SSE upstream has to reach a chunk boundary before a graceful close becomes a cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * One request on the fast path: upstream choice, retries, timeout, response framing and
 * streaming, accounting. Request and response bytes are forwarded as they are; only the
 * heads are rewritten.
 */
export class Exchange implements ConnUser, LongLivedConnection {
  readonly release: string;
  readonly counters: LiveBackend['counters'];
  readonly body: RequestBody;
  private readonly start = performance.now();
  private upstream: UpstreamState | null = null;
  private conn: UpstreamConn | null = null;
  private tried: UpstreamState[] | null = null;
  private retriedOnce = false;
  private timer: NodeJS.Timeout | null = null;
  private respBuf: Buffer | null = null;
  private status = 0;
  /** Response body: -1 chunked, -2 until close, n bytes left. */
  private left = 0;
  private cursor: ChunkedCursor | null = null;
  private reusable = false;
  private attemptOpen = false;
  private responded = false;
  private finished = false;
  private streaming = false;
  private closing = false;
  private waitingDrain = false;

  constructor(
    private readonly client: ClientSide,
    private readonly head: RequestHead,
    private readonly route: LiveRoute,
    private readonly backend: LiveBackend,
  ) {
    this.release = backend.release;
    this.counters = backend.counters;
    this.counters.inFlight++;
    this.body = new RequestBody(head.bodyLength, client);
  }

  attempt(fresh = false): void {
    const u = pickUpstream(this.backend.upstreams, this.backend.rotation++, this.tried);
    if (u === undefined) {
      const names = this.backend.upstreams.map((x) => x.key).join(', ') || 'none';
      return this.fail(502, `symphony router: no healthy upstream for route ${this.route.id}, release ${this.release} (tried: ${names})\n`);
    }
    this.upstream = u;
    this.attemptOpen = true;
    u.inFlight++;
    if (this.timer === null) this.timer = setTimeout(() => this.onTimeout(), this.route.timeoutMs);
    this.conn = u.conns.acquire(this, fresh || this.retriedOnce);
    if (this.conn.connected) this.onUpstreamConnect();
  }

  onUpstreamConnect(): void {
    const conn = this.conn;
    if (conn === null) return;
    const h = this.head;
    const ip = this.client.remoteAddress;
    const extra = `x-forwarded-for: ${h.xff === '' ? ip : `${h.xff}, ${ip}`}\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${h.host}\r\n\r\n`;
    conn.socket.write(assemble(h.buf, h.keep, extra, 0).out);
    if (h.bodyLength !== 0) this.body.pipeTo(conn.socket);
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.responded) return this.forward(chunk, 0);
    let buf = this.respBuf === null ? chunk : Buffer.concat([this.respBuf, chunk]);
    for (;;) {
      const end = headEnd(buf);
      if (end === -1) {
        if (buf.length > MAX_HEAD) return this.upstreamFailed(null, 'response head too large');
        this.respBuf = Buffer.from(buf);
        return;
      }
      const r = parseResponseHead(buf, end, this.head.method === 'HEAD');
      if (r === null || r.status === 101) return this.upstreamFailed(null, 'invalid response head');
      if (r.status >= 200) return this.respond(r, buf, end);
      // 1xx (103 Early Hints, 102): sent on as it is; the final response follows.
      // (The fast path only serves HTTP/1.1 clients, which accept them.)
      this.client.write(assemble(buf, r.keep, '\r\n', 0).out);
      buf = buf.subarray(end);
    }
  }

  private respond(r: ResponseHead, buf: Buffer, end: number): void {
    this.respBuf = null;
    this.responded = true;
    this.status = r.status;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.reusable = !r.close;
    this.left = r.bodyLength;
    if (r.bodyLength === -1) this.cursor = new ChunkedCursor();
    let extra = r.extra;
    const cookie = stickyCookie(this.route, this.head.cookie, this.release);
    if (cookie !== null) extra += `set-cookie: ${cookie}\r\n`;
    if (this.head.close || !this.body.done) extra += 'connection: close\r\n';
    extra += '\r\n';
    if (r.eventStream) {
      this.streaming = true;
      this.client.plane.longLived.add(this);
    }
    const whole = r.bodyLength >= 0 && end + r.bodyLength === buf.length && r.bodyLength <= 16384;
    const { out, at } = assemble(buf, r.keep, extra, whole ? r.bodyLength : 0);
    if (whole) buf.copy(out, at, end);
    this.client.write(out);
    if (r.bodyLength === 0 || whole) return this.complete();
    if (end < buf.length) this.forward(buf, end);
  }

  /** Send response body bytes `chunk[from..]` on; completes at the end of the body. */
  private forward(chunk: Buffer, from: number): void {
    if (this.finished) return;
    let to = chunk.length;
    let ended = false;
    if (this.left >= 0) {
      to = Math.min(chunk.length, from + this.left);
      this.left -= to - from;
      ended = this.left === 0;
    } else if (this.left === -1) {
      const cursor = this.cursor as ChunkedCursor;
      to = cursor.advance(chunk, from, this.closing);
      if (cursor.bad) return this.upstreamFailed(null, 'invalid chunked body');
      ended = cursor.done || (this.closing && cursor.atBoundary);
    }
    if (to < chunk.length && !ended) return;
    if (to > from) {
      const part = Buffer.from(chunk.subarray(from, to));
      const ok = this.left === -2 ? this.client.writeChunked(part) : this.client.write(part);
      if (!ok) this.backpressure();
    }
    if (to < chunk.length) this.reusable = false;
    if (ended) {
      if (this.closing && !(this.cursor?.done ?? false)) this.endGracefully();
      else this.complete();
    }
  }

  private backpressure(): void {
    if (this.waitingDrain || this.conn === null) return;
    const conn = this.conn;
    this.waitingDrain = true;
    conn.socket.pause();
    this.client.onceDrain(() => {
      this.waitingDrain = false;
      if (this.conn === conn) conn.socket.resume();
    });
  }

  onUpstreamClose(err: NodeJS.ErrnoException | null): void {
    const conn = this.conn;
    this.conn = null;
    if (this.finished || conn === null) return;
    if (this.responded && this.left === -2) {
      this.client.write(TERMINATOR);
      this.reusable = false;
      return this.complete();
    }
    this.upstreamFailed(err, conn.connected ? 'connection closed before the response ended' : 'connect failed');
  }

  private upstreamFailed(err: NodeJS.ErrnoException | null, what: string): void {
    const u = this.upstream as UpstreamState;
    this.endAttempt(false);
    if (this.finished) return;
    if (this.responded) return this.abort();
    const code = err?.code ?? '';
    if (CONNECT_ERRORS.has(code)) {
      u.markDown(`${code} on connect (passive check)`);
      (this.tried ??= []).push(u);
      return this.attempt(true);
    }
    if (!this.retriedOnce && this.head.bodyLength === 0 && isIdempotent(this.head.method)) {
      this.retriedOnce = true;
      this.tried = pickUpstream(this.backend.upstreams, this.backend.rotation, [u]) ? [u] : null;
      return this.attempt(true);
    }
    this.fail(502, `symphony router: upstream ${u.key} of release ${this.release} failed on route ${this.route.id}: ${code || what}\n`);
  }

  /** Give the upstream connection back (or drop it) and count the attempt as over. */
  private endAttempt(reuse: boolean): void {
    const conn = this.conn;
    this.conn = null;
    if (this.attemptOpen && this.upstream !== null) this.upstream.inFlight--;
    this.attemptOpen = false;
    this.body.detach();
    if (conn === null) return;
    if (this.waitingDrain) conn.socket.resume();
    if (reuse) this.upstream?.conns.release(conn);
    else conn.destroy();
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.responded || this.finished) return;
    const where = this.upstream ? this.upstream.key : 'no upstream';
    this.endAttempt(false);
    this.fail(504, `symphony router: upstream ${where} of release ${this.release} sent no response within ${this.route.timeoutMs} ms on route ${this.route.id}\n`);
  }

  /** A router answer instead of the upstream's. */
  private fail(status: number, text: string): void {
    this.status = status;
    this.reusable = false;
    routerReply(this.client, status, text, !this.body.done || this.head.close);
    this.done(this.body.done && !this.head.close);
  }

  private complete(): void {
    this.endAttempt(this.reusable && this.body.done);
    this.done(this.body.done && !this.head.close);
  }

  /** The client went away, or the response cannot be finished: cut both sides. */
  abort(): void {
    if (this.finished) return;
    this.status = 0;
    this.endAttempt(false);
    this.done(false);
    this.client.destroy();
  }

  /** Graceful end of an SSE stream (closeLongLived): finish the response at a chunk boundary. */
  close(): void {
    if (this.finished) return;
    if (!this.responded || this.left >= 0) return this.abort();
    this.closing = true;
    if (this.left === -2 || (this.cursor as ChunkedCursor).atBoundary) return this.endGracefully();
    setTimeout(() => this.abort(), CLOSE_GRACE_MS).unref();
  }

  private endGracefully(): void {
    this.client.write(TERMINATOR);
    this.endAttempt(false);
    this.done(this.body.done && !this.head.close);
  }

  private done(keepAlive: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.streaming) this.client.plane.longLived.delete(this);
    this.counters.inFlight--;
    this.counters.record(this.start, this.status);
    this.client.exchangeDone(keepAlive);
  }
}
