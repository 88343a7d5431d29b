import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { percentile } from '../lib/stats.js';

/** One writer transaction: when it was sent and finished (ms, performance clock), and whether it failed. */
export interface Tx {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

export interface WriterOptions {
  /** libpq-style connection settings; `schema` is put on the search_path. */
  connection: pg.PoolConfig;
  schema: string;
  /** Transactions per second across all connections (paced, open loop). */
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
 * a random existing row, each its own transaction, paced to `rate` across a
 * pool of `connections`. Every transaction is logged with its send and finish
 * time so a window can be cut out later.
 */
export function startWriter(o: WriterOptions): Writer {
  const pool = new pg.Pool({ ...o.connection, max: o.connections, options: `-c search_path=${o.schema}` });
  pool.on('error', () => undefined);
  const log: Tx[] = [];
  let running = true;
  const interval = (1000 * o.connections) / o.rate;
  const worker = async (w: number): Promise<void> => {
    let next = performance.now() + (interval * w) / o.connections;
    for (let i = 0; running; i++) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      next += interval;
      const start = performance.now();
      try {
        if (i % 2 === 0) {
          await pool.query('INSERT INTO accounts (owner, balance, ref) VALUES ($1, $2, $3)', [`w${w}-${i}`, i % 1000, i]);
        } else {
          await pool.query('UPDATE accounts SET balance = balance + 1 WHERE id = $1', [1 + Math.floor(Math.random() * o.rows)]);
        }
        log.push({ start, end: performance.now(), ok: true });
      } catch (err) {
        log.push({ start, end: performance.now(), ok: false, error: (err as Error).message });
      }
    }
  };
  const workers = Array.from({ length: o.connections }, (_, w) => worker(w));
  return {
    log,
    async stop() {
      running = false;
      await Promise.all(workers);
      await pool.end();
    },
  };
}

/** What the writer saw during one window of time. */
export interface WindowStats {
  ms: number;
  tx: number;
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
    txPerSec: (inside.length * 1000) / Math.max(1, to - from),
    failed: failed.length,
    p50: lat.length ? percentile(lat, 0.5) : NaN,
    p99: lat.length ? percentile(lat, 0.99) : NaN,
    max: lat.length ? lat.reduce((a, b) => Math.max(a, b), 0) : NaN,
    stallMs: stall,
    errors: [...new Set(failed.map((t) => t.error ?? ''))].slice(0, 5),
  };
}
