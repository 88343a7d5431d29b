import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ClientConn } from './client-conn.js';
import type { DataPlaneView } from './dispatch.js';
import { ListenError } from './errors.js';
import { createRequestHandler } from './proxy.js';
import { createUpgradeHandler } from './websocket.js';

/** Client keep-alive: idle client connections are closed after this long. */
const CLIENT_KEEP_ALIVE_MS = 65_000;

/** A route port: the fast path's listener, and node:http for connections it hands over. */
interface PortServer {
  net: NetServer;
  http: Server;
  conns: Set<ClientConn>;
  /** Connections handed to node:http (it tracks only connections of servers that listen). */
  handedOff: Set<Socket>;
}

/** One listener per route port on 127.0.0.1, opened when a route needs it, closed when none does. */
export class Listeners {
  private readonly servers = new Map<number, PortServer>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly plane: DataPlaneView) {
    this.sweeper = setInterval(() => this.closeIdle(), 5000);
    this.sweeper.unref();
  }

  /** Client connections idle longer than the keep-alive timeout are closed. */
  private closeIdle(): void {
    const before = performance.now() - CLIENT_KEEP_ALIVE_MS;
    for (const s of this.servers.values()) for (const c of [...s.conns]) if (c.idleSince < before) c.closeIfIdle();
  }

  has(port: number): boolean {
    return this.servers.has(port);
  }

  ports(): number[] {
    return [...this.servers.keys()];
  }

  /** The listening socket of `port` (to pass to another router process), if open. */
  serverOf(port: number): NetServer | undefined {
    return this.servers.get(port)?.net;
  }

  /** Listen on `port` unless already listening; throws ListenError naming the route. */
  async ensure(port: number, routeId: string): Promise<void> {
    if (this.servers.has(port)) return;
    const server = createNetServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(routeId, port, err.code ?? err.message)));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    server.removeAllListeners('error');
    this.serve(port, server);
  }

  /**
   * Accept on a listening socket another router process opened (received over IPC): the
   * kernel hands each new connection to one of the processes accepting on it.
   */
  adopt(port: number, server: NetServer): void {
    const old = this.servers.get(port);
    if (old?.net === server) return;
    if (old) {
      this.servers.delete(port);
      old.net.close();
    }
    // A socket received over IPC comes as a server with default options; the fast path needs these.
    Object.assign(server, { allowHalfOpen: true, noDelay: true });
    this.serve(port, server);
  }

  private serve(port: number, server: NetServer): void {
    const http = createServer({ keepAliveTimeout: CLIENT_KEEP_ALIVE_MS, noDelay: true });
    http.on('request', createRequestHandler(port, this.plane));
    http.on('upgrade', createUpgradeHandler(port, this.plane));
    http.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    const conns = new Set<ClientConn>();
    const handedOff = new Set<Socket>();
    http.on('connection', (socket: Socket) => {
      handedOff.add(socket);
      socket.once('close', () => handedOff.delete(socket));
    });
    server.on('connection', (socket: Socket) => new ClientConn(socket, port, this.plane, http, conns));
    server.on('error', () => undefined);
    this.servers.set(port, { net: server, http, conns, handedOff });
  }

  /** Stop accepting on ports no route uses; requests in flight there finish. */
  closeUnused(used: Set<number>): void {
    for (const [port, server] of this.servers) {
      if (used.has(port)) continue;
      this.servers.delete(port);
      server.net.close();
      server.http.closeIdleConnections();
      for (const c of [...server.conns]) c.closeIfIdle();
    }
  }

  /** Shutdown: stop accepting and cut every connection. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const closing = [...this.servers.values()].map(
      (server) =>
        new Promise<void>((resolve) => {
          server.net.close(() => resolve());
          for (const c of [...server.conns]) c.destroy();
          for (const s of [...server.handedOff]) s.destroy();
        }),
    );
    this.servers.clear();
    await Promise.all(closing);
  }
}
