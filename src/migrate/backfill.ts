import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { BackfillError } from './errors.js';
import type { TableLayout } from './layout.js';
import { progressCte } from './bookkeeping.js';
import { BACKFILL_FLAG, ident, literal, qualified } from './names.js';
import type { BackfillFill } from './plan-types.js';
import { runTx, pgCode, withRetry, type RetryPolicy } from './session.js';

export interface BackfillOptions extends RetryPolicy {
  migration: string;
  /** The migration's hash: the value of the session flag its trigger looks for. */
  hash: string;
  /** Fixed rows per batch. When unset, batch size adapts so a batch takes about `batchTargetMs`. */
  batchSize?: number;
  batchTargetMs: number;
  /** The table's recorded progress (a key, or `page:<next>:<end>`) to resume from; null: from the first row. */
  resumeAfter: string | null;
  /** Compute this fill in the batch UPDATE itself, the trigger stepping aside; null: touch rows, the trigger fills. */
  direct: BackfillFill | null;
}

const FIRST_BATCH = 1000;
const MIN_BATCH = 100;
const MAX_BATCH = 50_000;

/** What one batch UPDATE sets, and which rows of the range it needs to touch. */
interface BatchSql {
  set: string;
  where: string;
}

function batchSql(key: string, direct: BackfillFill | null): BatchSql {
  if (!direct) return { set: `${key} = ${key}`, where: '' };
  const col = ident(direct.column);
  return { set: `${col} = (${direct.value})`, where: direct.onlyWhenNull ? ` AND ${col} IS NULL` : '' };
}

/** Next batch size: aim at the target duration, at most doubling or halving per batch. */
export function nextBatchSize(size: number, elapsedMs: number, targetMs: number): number {
  const wanted = (size * targetMs) / Math.max(1, elapsedMs);
  return Math.round(Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.min(size * 2, Math.max(size / 2, wanted)))));
}

/**
 * Fill new columns of every row of a table, in short batches that each run as
 * one autocommit statement (row locks held for that statement only). The
 * session runs with synchronous_commit off (a crash loses at most the last
 * batches, and start resumes the backfill) and the lock_timeout of the policy.
 * Returns the number of rows updated.
 */
export async function backfillTable(client: pg.ClientBase, schema: string, table: TableLayout, opts: BackfillOptions): Promise<number> {
  const t = qualified(schema, table.physical);
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(opts.lockTimeoutMs))}; SET synchronous_commit = off`);
  try {
    if (table.primaryKey.length === 1) {
      const direct = opts.direct;
      if (direct) await client.query(`SELECT set_config(${literal(BACKFILL_FLAG)}, $1, false)`, [opts.hash]);
      return await backfillByKey(client, t, table, opts, batchSql(ident(table.primaryKey[0]), direct));
    }
    return await backfillByPage(client, t, table, opts);
  } finally {
    await client.query(`RESET lock_timeout; RESET synchronous_commit; RESET ${BACKFILL_FLAG}`);
  }
}

/** Progress of a page-walked table: `page:<first page not yet done>:<page the walk ends at>`. */
function pageProgress(saved: string | null): { from: number; end: number } | null {
  const m = saved === null ? null : /^page:(\d+):(\d+)$/.exec(saved);
  return m ? { from: Number(m[1]), end: Number(m[2]) } : null;
}

/**
 * Tables without a one-column key: ctid page ranges up to the table's size at
 * the first start, the trigger filling each touched row (a row version past
 * that end was written after the trigger existed, so it is filled). Each
 * range's transaction also records the next page as the table's progress, so a
 * resumed start goes on from there to the same end.
 */
async function backfillByPage(client: pg.ClientBase, t: string, table: TableLayout, opts: BackfillOptions): Promise<number> {
  const first = ident(table.columns[0].physical);
  const step = Math.max(1, Math.floor((opts.batchSize ?? FIRST_BATCH * 4) / 50));
  let walk = pageProgress(opts.resumeAfter);
  if (walk === null) {
    const pages = (await client.query<{ p: string }>(`SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::text AS p`, [t])).rows[0].p;
    walk = { from: 0, end: Number(pages) };
  }
  let total = 0;
  for (let p = walk.from; p <= walk.end; p += step) {
    const range = `ctid >= '(${p},0)'::tid AND ctid < '(${p + step},0)'::tid`;
    try {
      await runTx(client, opts, `backfill of ${table.physical}`, [], async (c) => {
        const statement = `WITH u AS (UPDATE ${t} SET ${first} = ${first} WHERE ${range} RETURNING 1),
          ${progressCte('SELECT $3::text', 1, 2)}
          SELECT count(*)::int AS n FROM u`;
        total += (await c.query<{ n: number }>(statement, [table.physical, opts.migration, `page:${p + step}:${walk.end}`])).rows[0].n;
      });
    } catch (err) {
      const rows = await client.query<{ id: string }>(`SELECT ctid::text AS id FROM ${t} WHERE ${range}`);
      for (const r of rows.rows) {
        try {
          await client.query(`UPDATE ${t} SET ${first} = ${first} WHERE ctid = $1::tid`, [r.id]);
        } catch (rowErr) {
          throw new BackfillError(opts.migration, table.physical, `ctid=${r.id}`, (rowErr as Error).message);
        }
      }
      throw err;
    }
  }
  return total;
}

/** Re-run a failed batch row by row to name the row whose expression fails. */
async function findFailingRow(client: pg.ClientBase, t: string, k: string, type: string, sql: BatchSql, after: string | null, size: number, opts: BackfillOptions, table: string, cause: Error): Promise<never> {
  const lower = after === null ? 'true' : `${k} > CAST($2 AS ${type})`;
  const keys = await client.query<{ id: string }>(`SELECT ${k}::text AS id FROM ${t} WHERE ${lower} ORDER BY ${k} LIMIT $1`, after === null ? [size] : [size, after]);
  for (const r of keys.rows) {
    try {
      await client.query(`UPDATE ${t} SET ${sql.set} WHERE ${k} = CAST($1 AS ${type})${sql.where}`, [r.id]);
    } catch (rowErr) {
      throw new BackfillError(opts.migration, table, `${k.replace(/"/g, '')}=${r.id}`, (rowErr as Error).message);
    }
  }
  throw new BackfillError(opts.migration, table, '(unknown row)', cause.message);
}

/**
 * Walk the one-column primary key. One statement a batch: a CTE finds the
 * batch's upper key with an index-only scan over the next `size` keys, the
 * UPDATE covers the key range up to it (heap pages in order, nothing rescanned),
 * and the version's progress records that key in the same commit. A resumed
 * start goes on after the recorded key: rows below it were filled by a batch
 * that committed, and every write since went through the trigger.
 */
async function backfillByKey(client: pg.ClientBase, t: string, table: TableLayout, opts: BackfillOptions, sql: BatchSql): Promise<number> {
  const k = ident(table.primaryKey[0]);
  const type = table.columns.find((c) => c.physical === table.primaryKey[0])?.type ?? 'text';
  const what = `backfill of ${table.physical}`;
  let last: string | null = opts.resumeAfter;
  let size = opts.batchSize ?? FIRST_BATCH;
  let total = 0;
  for (;;) {
    const lower: string = last === null ? 'true' : `${k} > CAST($4 AS ${type})`;
    const params: unknown[] = last === null ? [size, table.physical, opts.migration] : [size, table.physical, opts.migration, last];
    const statement = `WITH b AS (SELECT ${k} FROM ${t} WHERE ${lower} ORDER BY ${k} LIMIT $1),
      r AS (SELECT max(${k}) AS hi FROM b),
      u AS (UPDATE ${t} SET ${sql.set} WHERE ${lower} AND ${k} <= (SELECT hi FROM r)${sql.where} RETURNING 1),
      ${progressCte('SELECT hi FROM r', 2, 3)}
      SELECT (SELECT hi FROM r)::text AS upper, (SELECT count(*) FROM u)::int AS n`;
    const began = performance.now();
    let res: pg.QueryResult<{ upper: string | null; n: number }>;
    try {
      res = await withRetry(opts, what, () => client.query<{ upper: string | null; n: number }>(statement, params));
    } catch (err) {
      if (pgCode(err) === undefined) throw err;
      return findFailingRow(client, t, k, type, sql, last, size, opts, table.physical, err as Error);
    }
    const { upper, n } = res.rows[0];
    if (upper === null) return total;
    total += n;
    last = upper;
    if (opts.batchSize === undefined) size = nextBatchSize(size, performance.now() - began, opts.batchTargetMs);
  }
}
