import { createServer, type Server } from 'node:http';
import type { DataPlaneView } from './dispatch.js';
import { ListenError } from './errors.js';
import { createRequestHandler } from './proxy.js';
import { createUpgradeHandler } from './websocket.js';

/** Client keep-alive: idle client connections are closed after this long. */
const CLIENT_KEEP_ALIVE_MS = 65_000;

/** One HTTP server per route port on 127.0.0.1, opened when a route needs it, closed when none does. */
export class Listeners {
  private readonly servers = new Map<number, Server>();

  /** `shared`: in a cluster worker, the listening socket is shared with the other workers. */
  constructor(private readonly plane: DataPlaneView, private readonly shared = false) {}

  has(port: number): boolean {
    return this.servers.has(port);
  }

  ports(): number[] {
    return [...this.servers.keys()];
  }

  /** Listen on `port` unless already listening; throws ListenError naming the route. */
  async ensure(port: number, routeId: string): Promise<void> {
    if (this.servers.has(port)) return;
    const server = createServer({ keepAliveTimeout: CLIENT_KEEP_ALIVE_MS, noDelay: true });
    server.on('request', createRequestHandler(port, this.plane));
    server.on('upgrade', createUpgradeHandler(port, this.plane));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(routeId, port, err.code ?? err.message)));
      server.listen({ port, host: '127.0.0.1', exclusive: !this.shared }, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', () => undefined);
    this.servers.set(port, server);
  }

  /** Stop accepting on ports no route uses; requests in flight there finish. */
  closeUnused(used: Set<number>): void {
    for (const [port, server] of this.servers) {
      if (used.has(port)) continue;
      this.servers.delete(port);
      server.close();
      server.closeIdleConnections();
    }
  }

  /** Shutdown: stop accepting and cut every connection. */
  async closeAll(): Promise<void> {
    const closing = [...this.servers.values()].map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    this.servers.clear();
    await Promise.all(closing);
  }
}
