import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CONNECT_ERRORS, chooseBackend, findRoute, type DataPlaneView } from './dispatch.js';
import type { LiveBackend, LiveRoute } from './live-table.js';
import type { LongLivedConnection } from './long-lived.js';
import { pickUpstream } from './table.js';
import type { UpstreamState } from './upstreams.js';
import { CLOSE_TO_CLIENT, FrameCursor, HeadEnd, closeToServer } from './ws-frames.js';

/** Time a peer has to finish the frame it is sending before a graceful close becomes a cut. */
const CLOSE_GRACE_MS = 2000;

function refuse(socket: Duplex, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The `upgrade` handler of one listen port: WebSocket (or any Upgrade) tunnels to the chosen release. */
export function createUpgradeHandler(port: number, plane: DataPlaneView): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const route = findRoute(plane.table, port, req.headers.host, req.url ?? '/');
    if (route === undefined) return refuse(socket, 404, `symphony router: no route on port ${port} for ${req.url}\n`);
    if (plane.pauses.isPaused(route.id)) {
      plane.pauses.wait(route.id, () => {
        if (!socket.destroyed) onUpgrade(req, socket, head);
      });
      return;
    }
    const backend = chooseBackend(route, req.headers.cookie, req.socket.remoteAddress ?? '');
    if (backend === undefined) return refuse(socket, 503, `symphony router: route ${route.id} has no release taking traffic\n`);
    new Tunnel(req, socket, head, route, backend, plane).open();
  };
  return onUpgrade;
}

/** A client socket joined to an upstream socket after the upgrade request, aware of frame boundaries. */
class Tunnel implements LongLivedConnection {
  readonly release: string;
  readonly counters: LiveBackend['counters'];
  private tried: UpstreamState[] | null = null;
  private up: Socket | null = null;
  private readonly headEnd = new HeadEnd();
  private headDone = false;
  private readonly fromUpstream = new FrameCursor();
  private readonly fromClient = new FrameCursor();
  private closing = false;
  private clientClosed = false;
  private upstreamClosed = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly route: LiveRoute,
    private readonly backend: LiveBackend,
    private readonly plane: DataPlaneView,
  ) {
    this.release = backend.release;
    this.counters = backend.counters;
  }

  open(): void {
    const u = pickUpstream(this.backend.upstreams, this.backend.rotation++, this.tried);
    if (u === undefined) {
      refuse(this.client, 502, `symphony router: no healthy upstream for route ${this.route.id}, release ${this.release}\n`);
      return;
    }
    const up = connect({ host: u.host, port: u.port, noDelay: true });
    let connected = false;
    up.once('error', (err: NodeJS.ErrnoException) => {
      if (connected) return up.destroy();
      if (CONNECT_ERRORS.has(err.code ?? '')) {
        u.markDown(`${err.code} on connect (passive check)`);
        (this.tried ??= []).push(u);
        this.open();
      } else {
        refuse(this.client, 502, `symphony router: upstream ${u.key} failed: ${err.code ?? err.message}\n`);
      }
    });
    up.once('connect', () => {
      connected = true;
      u.inFlight++;
      up.once('close', () => u.inFlight--);
      this.join(up);
    });
  }

  private join(up: Socket): void {
    this.up = up;
    const client = this.client;
    if (client.destroyed) return void up.destroy();
    up.on('error', () => up.destroy());
    up.write(this.requestHead());
    if (this.head.length > 0) {
      this.fromClient.advance(this.head, false);
      up.write(this.head);
    }
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    up.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    client.on('end', () => up.end());
    up.on('end', () => client.end());
    client.on('close', () => {
      if (!this.upstreamClosed) up.destroy();
      this.plane.longLived.delete(this);
    });
    up.on('close', () => {
      if (!this.clientClosed) client.destroy();
    });
  }

  private requestHead(): string {
    const raw = this.req.rawHeaders;
    let head = `${this.req.method} ${this.req.url} HTTP/1.1\r\n`;
    let xff = '';
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name === 'x-forwarded-for') xff = raw[i + 1];
      else if (name !== 'x-forwarded-proto' && name !== 'x-forwarded-host') head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    const ip = this.req.socket.remoteAddress ?? '';
    head += `X-Forwarded-For: ${xff ? `${xff}, ${ip}` : ip}\r\nX-Forwarded-Proto: http\r\n`;
    if (this.req.headers.host) head += `X-Forwarded-Host: ${this.req.headers.host}\r\n`;
    return head + '\r\n';
  }

  private onUpstreamData(chunk: Buffer): void {
    if (this.clientClosed) return;
    if (!this.headDone) {
      const at = this.headEnd.find(chunk);
      if (at === -1) return void this.pass(this.up, this.client, chunk);
      this.headDone = true;
      if (this.headEnd.status === 101) this.plane.longLived.add(this);
      this.pass(this.up, this.client, chunk.subarray(0, at));
      chunk = chunk.subarray(at);
      if (chunk.length === 0) return;
    }
    if (!this.closing) {
      this.fromUpstream.advance(chunk, false);
      return void this.pass(this.up, this.client, chunk);
    }
    const at = this.fromUpstream.advance(chunk, true);
    if (at > 0) this.client.write(chunk.subarray(0, at));
    if (this.fromUpstream.atBoundary) this.closeClientSide();
  }

  private onClientData(chunk: Buffer): void {
    if (this.upstreamClosed || this.up === null) return;
    if (!this.closing) {
      this.fromClient.advance(chunk, false);
      return void this.pass(this.client, this.up, chunk);
    }
    const at = this.fromClient.advance(chunk, true);
    if (at > 0) this.up.write(chunk.subarray(0, at));
    if (this.fromClient.atBoundary) this.closeUpstreamSide();
  }

  private pass(from: Duplex | null, to: Duplex, chunk: Buffer): void {
    if (!to.write(chunk) && from !== null) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  /** closeLongLived: a close frame 1001 to each side between two frames, then end both. */
  close(): void {
    this.closing = true;
    if (!this.headDone || this.headEnd.status !== 101) {
      this.client.destroy();
      this.up?.destroy();
      return;
    }
    if (this.fromUpstream.atBoundary) this.closeClientSide();
    if (this.fromClient.atBoundary) this.closeUpstreamSide();
    setTimeout(() => {
      this.client.destroy();
      this.up?.destroy();
    }, CLOSE_GRACE_MS).unref();
  }

  private closeClientSide(): void {
    if (this.clientClosed) return;
    this.clientClosed = true;
    this.client.end(CLOSE_TO_CLIENT);
  }

  private closeUpstreamSide(): void {
    if (this.upstreamClosed || this.up === null) return;
    this.upstreamClosed = true;
    this.up.end(closeToServer());
  }
}
