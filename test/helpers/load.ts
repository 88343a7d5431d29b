import { Agent, request } from 'node:http';

/** Requests in flight at once in {@link startLoad}: at most this many can fail when one router process dies. */
export const LOAD_CONCURRENCY = 8;

export interface LoadReport {
  ok: number;
  failed: number;
  failedAt: number[];
  /** The failures that were HTTP answers (a router answering wrong, not a connection lost): status and body. */
  answered: string[];
}

/**
 * Requests through 127.0.0.1:`port` until stopped: half the loops open a new connection per
 * request, half reuse keep-alive connections. Counts 200s as ok and anything else (another
 * status, a reset, a timeout) as failed, with the time of each failure.
 */
export function startLoad(port: number): { stop(): Promise<LoadReport>; counts(): { ok: number; failed: number } } {
  let running = true;
  let ok = 0;
  let failed = 0;
  const failedAt: number[] = [];
  const answered: string[] = [];
  const fail = (): void => {
    failed++;
    failedAt.push(Date.now());
  };
  const keepAlive = new Agent({ keepAlive: true, maxSockets: LOAD_CONCURRENCY / 2 });
  const once = (agent: Agent | false): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else {
            fail();
            answered.push(`${res.statusCode} ${body.trim()}`);
          }
          resolve();
        });
        res.on('error', () => (fail(), resolve()));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => (fail(), resolve()));
      req.end();
    });
  const loops = Array.from({ length: LOAD_CONCURRENCY }, async (_, i) => {
    while (running) await once(i % 2 === 0 ? false : keepAlive);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      keepAlive.destroy();
      return { ok, failed, failedAt, answered };
    },
    counts: () => ({ ok, failed }),
  };
}
