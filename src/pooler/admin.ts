import type { Client } from 'pg';
import { ADMIN_USER, type PoolerLayout } from './config.js';
import { PoolerError } from './errors.js';

/** How long `PAUSE` may wait for running transactions to end before the pooler is resumed and the restart refused. */
export const PAUSE_TIMEOUT_MS = 30_000;

/**
 * A connection to a pooler's admin console (the `pgbouncer` database, as the superuser):
 * `PAUSE` / `RESUME` / `RELOAD` / `SHOW`. The console speaks only the simple query
 * protocol, which `pg` uses for a query without parameters.
 */
export class PoolerAdmin {
  private constructor(private readonly client: Client, private readonly layout: PoolerLayout, private readonly password: string) {}

  static async connect(layout: PoolerLayout, password: string): Promise<PoolerAdmin> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ host: '127.0.0.1', port: layout.port, user: ADMIN_USER, database: 'pgbouncer', password, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await client.connect();
    return new PoolerAdmin(client, layout, password);
  }

  async version(): Promise<string> {
    const row = (await this.client.query<Record<string, string>>('SHOW VERSION')).rows[0];
    return row ? String(Object.values(row)[0]) : 'PgBouncer';
  }

  /**
   * Hold every database: wait until each running transaction has ended, close the server
   * connections; clients keep theirs and their next queries wait. Past `timeoutMs` a
   * second console connection resumes, and the pause is refused with a PoolerError.
   */
  async pause(timeoutMs = PAUSE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), timeoutMs)));
    const paused = this.client.query('PAUSE').then(() => 'paused' as const);
    try {
      const outcome = await Promise.race([paused, timedOut]);
      if (outcome === 'paused') return;
    } finally {
      clearTimeout(timer);
    }
    const other = await PoolerAdmin.connect(this.layout, this.password);
    try {
      await other.resume();
    } finally {
      await other.close();
    }
    await paused.catch(() => undefined);
    throw new PoolerError(
      `the pooler on 127.0.0.1:${this.layout.port} could not hold its clients: a transaction was still running after ${Math.round(timeoutMs / 1000)} s`,
      'end the long transaction (pg_stat_activity on the server) and apply again; nothing was restarted',
    );
  }

  /**
   * Let held clients through; a no-op when nothing is paused. (PgBouncer 1.18 shows a
   * global PAUSE nowhere, so RESUME is sent and its "not paused" refusal taken as done.)
   */
  async resume(): Promise<void> {
    try {
      await this.client.query('RESUME');
    } catch (err) {
      if (!/not paused/i.test((err as Error).message)) throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
