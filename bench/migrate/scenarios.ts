import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { MigrationEngine, type EngineOptions } from '../../src/migrate/engine.js';
import type { Migration } from '../../src/migrate/operations.js';
import type { EngineCpu } from './cpu.js';

/** One phase of a migration as run by one approach: what ran, and when (performance clock). */
export interface Phase {
  migration: string;
  phase: string;
  from: number;
  to: number;
  /** Rows the phase rewrote or backfilled, when it did. */
  rows?: number;
  /** Server CPU ms of the engine's backends during the phase (Symphony only). */
  serverCpuMs?: number;
}

/** The same starting table for both approaches: `rows` rows, a bigserial key, a few typed columns. */
export async function createTable(client: pg.ClientBase, schema: string, rows: number): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TABLE ${schema}.accounts (
    id bigserial PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL, note text, ref integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())`);
  await client.query(`INSERT INTO ${schema}.accounts (owner, balance, note, ref)
    SELECT 'owner-' || g, g % 1000, 'note ' || g, g FROM generate_series(1, $1::int) AS g`, [rows]);
  await client.query(`VACUUM ANALYZE ${schema}.accounts`);
}

async function timed(phases: Phase[], migration: string, phase: string, fn: () => Promise<number | undefined>, cpu?: EngineCpu): Promise<void> {
  await cpu?.sample();
  const from = performance.now();
  const rows = await fn();
  const to = performance.now();
  const serverCpuMs = await cpu?.sample();
  phases.push({ migration, phase, from, to, ...(rows === undefined ? {} : { rows }), ...(serverCpuMs === undefined ? {} : { serverCpuMs }) });
}

/**
 * Symphony's way: for each migration, `start` (expand, backfill in batches)
 * then `complete` (contract), with the engine's defaults unless overridden.
 */
export async function runEngine(url: string, schema: string, migrations: Migration[], opts: EngineOptions, cpu?: EngineCpu): Promise<Phase[]> {
  const engine = new MigrationEngine(url, { baseSchema: schema, schemaPrefix: schema, ...opts });
  const phases: Phase[] = [];
  try {
    for (const m of migrations) {
      await timed(phases, m.name, 'start', async () => {
        const r = await engine.start(m);
        return Object.values(r.backfilled).reduce((a, b) => a + b, 0);
      }, cpu);
      await timed(phases, m.name, 'complete', async () => {
        await engine.complete();
        return undefined;
      }, cpu);
    }
  } finally {
    await engine.close();
  }
  return phases;
}

/** The naive way: the same three changes as plain ALTER TABLE (+ UPDATE) statements, each in one transaction. */
export const NAIVE: Record<string, string[]> = {
  '01_add_tier': [
    'ALTER TABLE accounts ADD COLUMN tier text',
    "UPDATE accounts SET tier = CASE WHEN balance > 500 THEN 'gold' ELSE 'basic' END",
    "ALTER TABLE accounts ALTER COLUMN tier SET DEFAULT 'basic', ALTER COLUMN tier SET NOT NULL",
  ],
  '02_rename_note': ['ALTER TABLE accounts RENAME COLUMN note TO memo'],
  '03_ref_bigint': ['ALTER TABLE accounts ALTER COLUMN ref TYPE bigint'],
};

export async function runNaive(connection: pg.ClientConfig, schema: string, names: string[], rows: number): Promise<Phase[]> {
  const client = new pg.Client({ ...connection, options: `-c search_path=${schema}` });
  await client.connect();
  const phases: Phase[] = [];
  try {
    for (const name of names) {
      await timed(phases, name, 'transaction', async () => {
        await client.query('BEGIN');
        for (const sql of NAIVE[name]) await client.query(sql);
        await client.query('COMMIT');
        return name === '02_rename_note' ? undefined : rows;
      });
    }
  } finally {
    await client.end();
  }
  return phases;
}

/** Check that both approaches ended with the same shape and lost no row. */
export async function verify(client: pg.ClientBase, schema: string): Promise<{ rows: number; columns: Record<string, string>; nullTiers: number }> {
  const cols = await client.query<{ column_name: string; data_type: string; is_nullable: string }>(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'accounts' ORDER BY ordinal_position`,
    [schema],
  );
  const counts = await client.query<{ n: number; nulls: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE tier IS NULL)::int AS nulls FROM ${schema}.accounts`);
  return {
    rows: counts.rows[0].n,
    columns: Object.fromEntries(cols.rows.map((c) => [c.column_name, `${c.data_type}${c.is_nullable === 'NO' ? ' not null' : ''}`])),
    nullTiers: counts.rows[0].nulls,
  };
}
