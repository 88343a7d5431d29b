import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/report.js';
import { APP_FILE } from '../deploy-under-load/app.js';

/** What every answer of `/` starts with (the load generator counts any other 2xx as a wrong answer). */
export const CHAOS_VERSION = 'chaos';

/**
 * Source of the chaos bench app: `/healthz` (the process is up), `/` (one `SELECT 1` on
 * its postgres through a pool of 4, so a dead database fails requests; 503 when the query
 * fails), `/slow` (answers after 2 s). A pool client whose server died is dropped and a new
 * connection made on the next request: the app needs no restart when postgres comes back.
 * Symphony and pm2 run this same file.
 */
export function chaosAppSource(): string {
  const pg = join(ROOT, 'node_modules/pg/lib/index.js');
  return `// Symphony chaos bench app
import { createServer } from 'node:http';
import pg from ${JSON.stringify(pg)};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4, connectionTimeoutMillis: 1000, idleTimeoutMillis: 0 });
pool.on('error', () => {});
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url.startsWith('/slow')) return setTimeout(() => res.end('slow ${CHAOS_VERSION}\\n'), 2000);
  pool.query('SELECT 1 AS one').then(
    () => res.end('${CHAOS_VERSION} ' + process.pid + '\\n'),
    (err) => { res.statusCode = 503; res.end('database: ' + err.message + '\\n'); },
  );
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;
}

/** Write the app into `dir` (created when missing); the version is fixed (no deploys here). */
export function writeChaosApp(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, APP_FILE), chaosAppSource());
}
