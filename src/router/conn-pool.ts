import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * Idle upstream sockets are closed once idle this long (checked every second, so they go
 * at 3..4 s): below Node's default server keep-alive timeout (5 s), so we rarely reuse a
 * socket the upstream is closing.
 */
export const IDLE_CLOSE_MS = 3000;

/**
 * Every upstream socket reads into this one buffer (net's `onread`: no stream machinery, no
 * allocation per read). A chunk is only valid during `onUpstreamData`: copy what is kept or queued.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What drives an upstream connection while it carries one exchange. */
export interface ConnUser {
  onUpstreamConnect(): void;
  /** `chunk` is valid during the call only (it lives in the shared read buffer). */
  onUpstreamData(chunk: Buffer): void;
  /** The connection is gone; `err` is the socket error, if any. */
  onUpstreamClose(err: NodeJS.ErrnoException | null): void;
}

/** One keep-alive socket to an upstream, lent to one exchange at a time. */
export class UpstreamConn {
  user: ConnUser | null = null;
  connected = false;
  closed = false;
  idleSince = 0;
  readonly socket: Socket;
  private error: NodeJS.ErrnoException | null = null;

  constructor(host: string, port: number, pool: ConnPool) {
    const socket = connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n, buf) => this.onRead(n, buf) } });
    this.socket = socket;
    socket.on('connect', () => {
      this.connected = true;
      this.user?.onUpstreamConnect();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      pool.forget(this);
      const user = this.user;
      this.user = null;
      user?.onUpstreamClose(this.error);
    });
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (this.user === null) {
      this.socket.destroy();
      return false;
    }
    this.user.onUpstreamData(Buffer.from(buf.buffer, buf.byteOffset, n));
    return true;
  }

  /** Drop the connection without telling its user. */
  destroy(): void {
    this.user = null;
    this.socket.destroy();
  }
}

/** Keep-alive connections to one upstream address: idle ones are reused last-in first-out. */
export class ConnPool {
  private readonly idle: UpstreamConn[] = [];
  private closing = false;

  constructor(private readonly host: string, private readonly port: number) {}

  get idleCount(): number {
    return this.idle.length;
  }

  /** An idle connection (unless `fresh`), or a new one; `user` gets its events from now on. */
  acquire(user: ConnUser, fresh: boolean): UpstreamConn {
    if (!fresh) {
      while (this.idle.length > 0) {
        const c = this.idle.pop() as UpstreamConn;
        if (c.closed || c.socket.destroyed) continue;
        c.user = user;
        return c;
      }
    }
    const c = new UpstreamConn(this.host, this.port, this);
    c.user = user;
    return c;
  }

  /** Take a connection back after a complete exchange. */
  release(c: UpstreamConn): void {
    c.user = null;
    if (this.closing || c.closed) {
      c.socket.destroy();
      return;
    }
    c.idleSince = performance.now();
    this.idle.push(c);
  }

  forget(c: UpstreamConn): void {
    const at = this.idle.indexOf(c);
    if (at !== -1) this.idle.splice(at, 1);
  }

  /** Close connections idle for IDLE_CLOSE_MS or more. */
  sweep(now: number): void {
    for (const c of [...this.idle]) if (now - c.idleSince >= IDLE_CLOSE_MS) c.destroy();
  }

  /** Close idle connections now, and each busy one when its exchange ends. */
  close(): void {
    this.closing = true;
    for (const c of this.idle.splice(0)) c.destroy();
  }
}
