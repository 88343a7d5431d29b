import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { chooseBackend, findRoute, type DataPlaneView } from './dispatch.js';
import { Exchange } from './exchange.js';
import type { BodySource } from './request-body.js';
import { headEnd, MAX_HEAD, parseRequestHead, type RequestHead } from './http1.js';

/** What an exchange needs of its client connection. */
export interface ClientSide extends BodySource {
  readonly plane: DataPlaneView;
  readonly remoteAddress: string;
  write(chunk: Buffer): boolean;
  /** Write one chunk of a body the router frames itself (chunked). */
  writeChunked(chunk: Buffer): boolean;
  onceDrain(fn: () => void): void;
  destroy(): void;
  /** The response is complete; keep the connection for the next request or close it. */
  exchangeDone(keepAlive: boolean): void;
}

/** Send a short plain-text answer of the router itself (404, 502, 503, 504). */
export function routerReply(client: ClientSide, status: number, body: string, close: boolean): void {
  const text =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-symphony-router: error\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
  client.write(Buffer.from(text + body));
}

/**
 * One client connection on the fast path: reads request heads, runs one exchange at a time
 * (pipelined requests wait their turn), and hands the connection to node:http (`fallback`)
 * for anything the fast path does not take (upgrades, Expect, HTTP/1.0, odd syntax).
 */
export class ClientConn implements ClientSide {
  readonly remoteAddress: string;
  idleSince = performance.now();
  exchange: Exchange | null = null;
  private pending: Buffer | null = null;
  private closed = false;
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly port: number,
    readonly plane: DataPlaneView,
    private readonly fallback: Server,
    private readonly conns: Set<ClientConn>,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    conns.add(this);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', noop);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.exchange !== null) {
      const rest = this.exchange.body.feed(chunk);
      if (this.exchange?.body.bad) return this.destroy();
      if (rest !== null) this.hold(rest);
      return;
    }
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.next();
  };

  private hold(rest: Buffer): void {
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
    this.socket.pause();
  }

  private readonly onEnd = (): void => {
    if (this.exchange === null) this.socket.end();
    else this.ending = true;
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.conns.delete(this);
    this.exchange?.abort();
  };

  /** Start the next request held in `pending`, if its head is complete. */
  private next(): void {
    const buf = this.pending;
    if (buf === null || this.closed) return;
    const end = headEnd(buf);
    if (end === -1) {
      if (buf.length > MAX_HEAD) this.handOff();
      return;
    }
    const head = parseRequestHead(buf, end);
    if (head === null) return this.handOff();
    this.pending = null;
    this.dispatch(head, end < buf.length ? buf.subarray(end) : null);
  }

  private dispatch(head: RequestHead, rest: Buffer | null): void {
    const route = findRoute(this.plane.table, this.port, head.host, head.url);
    if (route === undefined) {
      return this.answer(head, rest, 404, `symphony router: no route on port ${this.port} for host ${head.host ?? '(none)'} and path ${head.url}\n`);
    }
    if (this.plane.pauses.size !== 0 && this.plane.pauses.isPaused(route.id)) {
      this.socket.pause();
      this.plane.pauses.wait(route.id, () => {
        if (this.closed) return;
        this.socket.resume();
        this.dispatch(head, rest);
      });
      return;
    }
    const backend = chooseBackend(route, head.cookie, this.remoteAddress);
    if (backend === undefined) return this.answer(head, rest, 503, `symphony router: route ${route.id} has no release taking traffic (all weights are 0)\n`);
    const exchange = new Exchange(this, head, route, backend);
    this.exchange = exchange;
    if (rest !== null) {
      const after = exchange.body.feed(rest);
      if (after !== null) this.hold(after);
    }
    exchange.attempt();
  }

  /** A router answer without an exchange: the connection stays open only when no body follows. */
  private answer(head: RequestHead, rest: Buffer | null, status: number, body: string): void {
    const close = head.close || head.bodyLength !== 0;
    routerReply(this, status, body, close);
    if (close) return void this.socket.end();
    this.pending = rest;
    this.next();
  }

  /** Give the connection to node:http with the bytes read so far. */
  private handOff(): void {
    const socket = this.socket;
    this.conns.delete(this);
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', noop);
    socket.pause();
    if (this.pending !== null) socket.unshift(this.pending);
    this.pending = null;
    this.fallback.emit('connection', socket);
    process.nextTick(() => socket.resume());
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  writeChunked(chunk: Buffer): boolean {
    const socket = this.socket;
    socket.cork();
    socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const ok = socket.write('\r\n', 'latin1');
    socket.uncork();
    return ok;
  }

  onceDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.pending === null) this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  exchangeDone(keepAlive: boolean): void {
    this.exchange = null;
    this.idleSince = performance.now();
    if (this.closed) return;
    if (!keepAlive || this.ending) {
      this.socket.end();
      return;
    }
    this.socket.resume();
    this.next();
  }

  /** Close the connection if no exchange runs on it (port closed, idle too long). */
  closeIfIdle(): boolean {
    if (this.exchange !== null) return false;
    this.socket.end();
    return true;
  }
}

function noop(): void {}
