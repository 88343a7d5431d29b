import { createServer, type Server } from 'node:http';
import { SymphonyError } from '../errors.js';
import { formatListen, type ListenAddress } from './spec.js';

/** The agent's `/metrics` listeners, one per distinct address any environment asked for. */
export class MetricsListeners {
  private readonly servers = new Map<string, Server>();

  constructor(private readonly scrape: () => Promise<string>, private readonly contentType: string) {}

  /** Listen on exactly these addresses: new ones are opened first (a failure changes nothing), then the others closed. */
  async sync(addresses: ListenAddress[]): Promise<void> {
    const wanted = new Map(addresses.map((a) => [formatListen(a), a]));
    const opened: string[] = [];
    try {
      for (const [key, a] of wanted) {
        if (this.servers.has(key)) continue;
        this.servers.set(key, await this.open(a));
        opened.push(key);
      }
    } catch (err) {
      await Promise.all(opened.map((k) => this.close(k)));
      throw err;
    }
    await Promise.all([...this.servers.keys()].filter((k) => !wanted.has(k)).map((k) => this.close(k)));
  }

  addresses(): string[] {
    return [...this.servers.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((k) => this.close(k)));
  }

  private open(a: ListenAddress): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics lives here\n');
        return;
      }
      this.scrape().then(
        (text) => res.writeHead(200, { 'content-type': this.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new SymphonyError(`cannot serve metrics on ${formatListen(a)}: ${err.code ?? err.message}`, `pick another address in observability.metrics of the stack file, or free ${formatListen(a)}`)),
      );
      server.listen(a.port, a.host, () => resolve(server));
    });
  }

  private async close(key: string): Promise<void> {
    const s = this.servers.get(key);
    this.servers.delete(key);
    if (!s) return;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }
}
