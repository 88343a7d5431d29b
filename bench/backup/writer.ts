import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { percentile } from '../lib/stats.js';

/** One insert: its id, when it was due and acknowledged (performance clock and wall clock, ms). */
export interface Write {
  id: number;
  due: number;
  end: number;
  /** Wall-clock ms (Date.now()) at the due time and at the acknowledgement: compared with a restore target. */
  dueWall: number;
  ackWall: number | null;
  ok: boolean;
}

export interface Writer {
  log: Write[];
  stop(): Promise<void>;
}

export const WRITES_TABLE = 'bench_writes';

/**
 * An app's steady write load: one single-row INSERT per transaction with an id
 * chosen here (so every acknowledged id is known), open loop at `rate` per
 * second on a pool of `connections` (latency counted from the due time, so a
 * stall behind a backup counts in full).
 */
export async function startWriter(connection: pg.PoolConfig, rate: number, connections: number, firstId: number): Promise<Writer> {
  const pool = new pg.Pool({ ...connection, max: connections });
  // An idle client whose server went away (a restart) errors here; the next query gets a new one.
  pool.on('error', () => undefined);
  await Promise.all(Array.from({ length: connections }, async () => (await pool.connect()).release()));
  const log: Write[] = [];
  let running = true;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  const wall0 = Date.now();
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = firstId + i;
      const p = pool
        .query(`INSERT INTO ${WRITES_TABLE} (id, payload) VALUES ($1, repeat('x', 200))`, [id])
        .then(
          () => log.push({ id, due, end: performance.now(), dueWall: wall0 + (due - t0), ackWall: Date.now(), ok: true }),
          () => log.push({ id, due, end: performance.now(), dueWall: wall0 + (due - t0), ackWall: null, ok: false }),
        )
        .then(() => undefined);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  })();
  return {
    log,
    async stop() {
      running = false;
      await loop;
      await Promise.all(inflight);
      await pool.end();
    },
  };
}

export interface WindowStats {
  n: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** Latency of the writes due in [from, to] (performance clock). */
export function windowStats(log: Write[], from: number, to: number): WindowStats {
  const w = log.filter((t) => t.due >= from && t.due <= to);
  const lat = w.filter((t) => t.ok).map((t) => t.end - t.due);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: w.length,
    failed: w.filter((t) => !t.ok).length,
    p50: lat.length ? r(percentile(lat, 0.5)) : NaN,
    p99: lat.length ? r(percentile(lat, 0.99)) : NaN,
    max: lat.length ? r(Math.max(...lat)) : NaN,
  };
}

/**
 * Point-in-time exactness against a restore to `targetWall`: every write
 * acknowledged before it must be there, every write due after it must not
 * (a write in flight across the moment may go either way, and is counted apart).
 */
export function exactness(log: Write[], present: Set<number>, targetWall: number): { before: number; after: number; straddling: number; missing: number; extra: number } {
  let before = 0;
  let after = 0;
  let straddling = 0;
  let missing = 0;
  let extra = 0;
  for (const w of log) {
    if (w.ok && w.ackWall !== null && w.ackWall < targetWall) {
      before++;
      if (!present.has(w.id)) missing++;
    } else if (w.dueWall > targetWall) {
      after++;
      if (present.has(w.id)) extra++;
    } else straddling++;
  }
  return { before, after, straddling, missing, extra };
}
