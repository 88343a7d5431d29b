import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresLayout } from '../kinds/postgres/index.js';
import { asServerUser, serverUser } from '../kinds/postgres/server-user.js';
import { shellQuote } from '../kinds/postgres/settings.js';
import { tearDown } from '../rehearse/teardown.js';
import { getRuntimeDriver } from '../runtime/registry.js';
import { distinctFreePorts } from '../util/ports.js';
import type { BackedUpService } from './service.js';
import type { VerificationRecord } from './records.js';

/** Scratch directories of verifications: `<state>/backup/<env>/<service>/verify-<n>` (removed after). */
function scratchDir(svc: BackedUpService): string {
  return join(svc.layout.dir, `verify-${Date.now().toString(36)}`);
}

async function queryWhenPromoted(port: number, server: PostgresLayout, password: string, sql: string, timeoutMs: number): Promise<string> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  let last = 'no connection yet';
  while (Date.now() < deadline) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: server.user, database: server.database, password, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const rec = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (rec.rows[0]?.r) {
        last = 'still replaying WAL';
      } else {
        const res = await client.query({ text: sql, rowMode: 'array' });
        const first = (res.rows[0] as unknown[] | undefined)?.[0];
        if (first !== true) throw new Error(`check returned ${JSON.stringify(first ?? null)}, not true`);
        return `check returned true`;
      }
    } catch (err) {
      last = (err as Error).message;
      if (/^check returned/.test(last) || /syntax error|does not exist/.test(last)) throw new Error(last);
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(300);
  }
  throw new Error(`the restored server did not come up in ${timeoutMs / 1000} s: ${last}`);
}

/**
 * Restore one backup into a throwaway server on a port and directory of its
 * own (archiving off, so it never writes to the repository), run the stack's
 * check there, and tear it down with the rehearsal machinery (`tearDown`:
 * every process stamped with or naming the directory, then the directory),
 * whatever the outcome. Never touches the live server.
 */
export async function verifyBackup(svc: BackedUpService, backup: string, check: string): Promise<VerificationRecord> {
  const started = Date.now();
  const server = svc.server;
  if (!server) throw new Error(`${svc.service} is not a postgres service: verify its ${svc.kind} backups with verifySnapshot`);
  const dir = scratchDir(svc);
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'run');
  const [port] = await distinctFreePorts(1, [server.port]);
  const driver = getRuntimeDriver('process', { scope: dir });
  let ok = false;
  let detail: string;
  try {
    for (const d of [dir, socketDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    const user = serverUser();
    if (user) for (const d of [dir, socketDir]) chownSync(d, user.uid, user.gid);
    await svc.engine.restoreInto(dataDir, { backup });
    const [cmd, args] = asServerUser(join(server.binDir, 'postgres'), [
      '-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'archive_mode=off', '-c', 'wal_init_zero=off',
    ]);
    await driver.start({ id: `verify-${svc.service}`, service: svc.service, release: backup, command: 'exec ' + [cmd, ...args].map(shellQuote).join(' '), cwd: dir, env: {}, logDir: join(dir, 'logs') });
    detail = await queryWhenPromoted(port, server, svc.password, check, 120_000);
    ok = true;
  } catch (err) {
    detail = (err as Error).message;
  } finally {
    for (const o of await driver.list()) await driver.stop(o, { graceMs: 10_000, signal: 'SIGINT' });
    const left = await tearDown(dir, [port]);
    if (left.processes.length || left.ports.length || left.dir) {
      ok = false;
      detail = `${detail!}; teardown left ${left.processes.length} processes, ports ${left.ports.join(',') || 'none'}, dir ${left.dir ?? 'none'}`;
    }
  }
  return { env: svc.env, service: svc.service, backup, at: new Date().toISOString(), ok, detail, durationMs: Date.now() - started };
}
