import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { percentile } from '../lib/stats.js';

/** One writer transaction: when it was due and finished (ms, performance clock), and whether it failed. */
export interface Tx {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
  kind: 'insert' | 'update';
}

export interface WriterOptions {
  /** libpq-style connection settings; `schema` is put on the search_path. */
  connection: pg.PoolConfig;
  schema: string;
  /** Transactions per second across all connections (open loop: each one due at its time). */
  rate: number;
  connections: number;
  /** Highest id of the pre-filled rows that updates pick from. */
  rows: number;
}

export interface Writer {
  log: Tx[];
  stop(): Promise<void>;
}

/**
 * A steady single-row write load, like an app's: half inserts, half updates of
 * a random existing row, each its own transaction. Open loop: transaction i is
 * due at t0 + i / rate whatever happened before, and goes out on any free
 * connection of the pool (waiting for one when all are busy). Latency counts
 * from the due time, so time spent queued behind a stalled transaction is
 * counted too (no coordinated omission), and the rate holds as long as the
 * database keeps up. Connections are opened before the first one is due. Every transaction is logged with its due and finish time
 * so a window can be cut out later.
 */
export async function startWriter(o: WriterOptions): Promise<Writer> {
  const pool = new pg.Pool({ ...o.connection, max: o.connections, idleTimeoutMillis: 0, options: `-c search_path=${o.schema}` });
  pool.on('error', () => undefined);
  // Open every connection first: connection setup (scram) is not part of a transaction's latency.
  const warm = await Promise.all(Array.from({ length: o.connections }, () => pool.connect()));
  for (const c of warm) c.release();
  const log: Tx[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  const interval = 1000 / o.rate;
  const send = async (i: number, due: number): Promise<void> => {
    const kind = i % 2 === 0 ? 'insert' : 'update';
    try {
      if (kind === 'insert') {
        await pool.query('INSERT INTO accounts (owner, balance, ref) VALUES ($1, $2, $3)', [`w-${i}`, i % 1000, i]);
      } else {
        await pool.query('UPDATE accounts SET balance = balance + 1 WHERE id = $1', [1 + Math.floor(Math.random() * o.rows)]);
      }
      log.push({ start: due, end: performance.now(), ok: true, kind });
    } catch (err) {
      log.push({ start: due, end: performance.now(), ok: false, kind, error: (err as Error).message });
    }
  };
  const ticker = (async () => {
    const t0 = performance.now();
    for (let i = 0; running; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const p = send(i, due).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();
  return {
    log,
    async stop() {
      running = false;
      await ticker;
      await Promise.all([...inFlight]);
      await pool.end();
    },
  };
}

/** What the writer saw during one window of time. */
export interface WindowStats {
  ms: number;
  tx: number;
  /** Transactions completed (not merely due) per second in the window. */
  txPerSec: number;
  failed: number;
  /** Latency of transactions sent in the window. */
  p50: number;
  p99: number;
  max: number;
  /** Longest gap between two consecutive completed transactions (window edges count as completions). */
  stallMs: number;
  errors: string[];
}

/** Cut the transactions sent in [from, to] out of a writer log and summarize them. */
export function windowStats(log: readonly Tx[], from: number, to: number): WindowStats {
  const inside = log.filter((t) => t.start >= from && t.start <= to);
  const lat = inside.map((t) => t.end - t.start);
  const ends = [from, ...log.filter((t) => t.ok && t.end >= from && t.end <= to).map((t) => t.end).sort((a, b) => a - b), to];
  let stall = 0;
  for (let i = 1; i < ends.length; i++) stall = Math.max(stall, ends[i] - ends[i - 1]);
  const failed = inside.filter((t) => !t.ok);
  return {
    ms: to - from,
    tx: inside.length,
    txPerSec: (log.filter((t) => t.ok && t.end >= from && t.end <= to).length * 1000) / Math.max(1, to - from),
    failed: failed.length,
    p50: lat.length ? percentile(lat, 0.5) : NaN,
    p99: lat.length ? percentile(lat, 0.99) : NaN,
    max: lat.length ? lat.reduce((a, b) => Math.max(a, b), 0) : NaN,
    stallMs: stall,
    errors: [...new Set(failed.map((t) => t.error ?? ''))].slice(0, 5),
  };
}
