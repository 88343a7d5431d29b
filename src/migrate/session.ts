import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import { literal } from './names.js';

/** Key of the advisory lock every engine command holds for its whole run. */
export const ADVISORY_KEY = 0x53594d50; // "SYMP"

export interface RetryPolicy {
  lockTimeoutMs: number;
  retries: number;
  backoffMs: number;
}

export type Statement = string | [string, unknown[]];

const RETRYABLE = new Set(['55P03', '40P01', '40001']);

export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

const MAX_BACKOFF_MS = 2000;

/** Exponential backoff (capped) with full jitter, so retries of several clients do not line up. */
export function backoff(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, policy.backoffMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Run `fn`, retried with exponential backoff while Postgres answers lock_timeout, deadlock or serialization failure. */
export async function withRetry<T>(policy: RetryPolicy, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = pgCode(err);
      if (!code || !RETRYABLE.has(code) || attempt >= policy.retries) {
        if (code && RETRYABLE.has(code)) {
          throw new MigrationError(`${what}: could not get its locks after ${attempt + 1} tries of ${policy.lockTimeoutMs} ms (${(err as Error).message})`, 'find the long transaction holding the table (pg_stat_activity) and run the command again');
        }
        throw err;
      }
      await sleep(backoff(policy, attempt));
    }
  }
}

function query(client: pg.ClientBase, s: Statement) {
  return typeof s === 'string' ? client.query(s) : client.query(s[0], s[1]);
}

/** A statement with its parameters inlined as literals, so it can travel in a multi-statement query. */
export function inlineParams(s: Statement): string {
  if (typeof s === 'string') return s;
  const [sql, params] = s;
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const v = params[Number(n) - 1];
    return v === null || v === undefined ? 'NULL' : literal(String(v));
  });
}

function setLockTimeout(policy: RetryPolicy): string {
  return `SET LOCAL lock_timeout = ${Math.max(1, Math.round(policy.lockTimeoutMs))}`;
}

/**
 * Run statements in one transaction with a short lock_timeout, retried with
 * backoff and jitter when a lock is not granted. Without `inside`, the whole
 * transaction goes as one query (one round trip), so locks taken by its DDL are
 * held for the server's work only, not for client round trips; a statement that
 * fails for another reason is run again one at a time to name it in the error.
 */
export function runTx(client: pg.ClientBase, policy: RetryPolicy, what: string, statements: Statement[], inside?: (c: pg.ClientBase) => Promise<void>): Promise<void> {
  return withRetry(policy, what, async () => {
    if (!inside) {
      try {
        await client.query(['BEGIN', setLockTimeout(policy), ...statements.map(inlineParams), 'COMMIT'].join('\n;\n'));
        return;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = pgCode(err);
        if (code === undefined || RETRYABLE.has(code)) throw err;
      }
    }
    await client.query('BEGIN');
    try {
      await client.query(setLockTimeout(policy));
      for (const s of statements) {
        try {
          await query(client, s);
        } catch (err) {
          if (err instanceof Error && !RETRYABLE.has(pgCode(err) ?? '')) {
            err.message = `${err.message} (in: ${(typeof s === 'string' ? s : s[0]).slice(0, 200)})`;
          }
          throw err;
        }
      }
      if (inside) await inside(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** Run statements one at a time outside a transaction (CREATE INDEX CONCURRENTLY…), each retried. */
export async function runEach(client: pg.ClientBase, policy: RetryPolicy, what: string, statements: string[]): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(policy.lockTimeoutMs))}`);
  try {
    for (const s of statements) await withRetry(policy, what, () => client.query(s));
  } finally {
    await client.query('RESET lock_timeout');
  }
}

/** Hold the engine's advisory lock for the duration of `fn`. */
export async function withEngineLock<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection the server ends (restart, pg_terminate_backend) fails the query in
  // flight, which reaches the caller; its 'error' event must not crash the process too.
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  try {
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [ADVISORY_KEY]);
    if (!got.rows[0].ok) {
      throw new MigrationError('another symphony migrate command is running against this database right now', 'wait for it to finish, then look at: symphony migrate status');
    }
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_KEY]).catch(() => undefined);
    }
  } finally {
    client.off('error', onError);
    // A lost connection goes back destroyed, not into the pool for the next command.
    client.release(lost);
  }
}
