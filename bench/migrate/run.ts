import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { loadMigrations } from '../../src/migrate/load.js';
import { startTestPostgres } from '../../test/helpers/postgres.js';
import { machineInfo, note, ROOT } from '../lib/report.js';
import { EngineCpu, ENGINE_APP } from './cpu.js';
import { cpuPerRow, report, rowRate, type ApproachResult } from './report.js';
import { createTable, runEngine, runNaive, verify, type Phase } from './scenarios.js';
import { startWriter, windowStats } from './writer.js';

/**
 * Migration bench (issue 4). One command:
 *
 *     node --import tsx bench/migrate/run.ts
 *
 * A PostgreSQL 15 started through Symphony's postgres kind (test/helpers/postgres.ts)
 * holds two identical 1,000,000-row `accounts` tables (schemas `sym` and `naive`).
 * For each, while a writer runs 600 single-row tx/s (open loop: each transaction due at
 * its time, on a pool of 16 connections, latency counted from the due time; half inserts,
 * half updates, each its own transaction), three migrations run: (a) add a NOT NULL column backfilled from an
 * expression, (b) rename a column, (c) change a column's type (integer -> bigint).
 * Symphony: MigrationEngine start + complete per migration (bench/migrate/migrations).
 * Naive: the same changes as plain ALTER TABLE (+ UPDATE) in one transaction each.
 * Reported for both: writer stall (longest gap between completed transactions),
 * p50/p99/max latency and failed transactions during the migrations, rows/s, and for
 * Symphony the server CPU its backends spent per backfilled row (load-independent).
 * Prints a table; writes bench/results/migrate.json.
 * Knobs: MIGRATE_BENCH_ROWS (1000000), MIGRATE_BENCH_RATE (600 tx/s), MIGRATE_BENCH_CONNECTIONS (16),
 * MIGRATE_BENCH_BATCH (fixed engine batch size; default: the engine's adaptive one), MIGRATE_BENCH_TARGET_MS
 * (adaptive batch duration; default: the engine's), MIGRATE_BENCH_ORDER
 * (symphony,naive), MIGRATE_BENCH_PG_SETTINGS (JSON, added to the server settings),
 * MIGRATE_BENCH_DUMP (path prefix: writes <prefix>.<approach>.json with every writer
 * transaction and the phases, to see when the slow ones happened).
 */
export const COMMAND = 'node --import tsx bench/migrate/run.ts';
const ROWS = Number(process.env.MIGRATE_BENCH_ROWS ?? 1_000_000);
const RATE = Number(process.env.MIGRATE_BENCH_RATE ?? 600);
const CONNECTIONS = Number(process.env.MIGRATE_BENCH_CONNECTIONS ?? 16);
const BATCH = process.env.MIGRATE_BENCH_BATCH ? Number(process.env.MIGRATE_BENCH_BATCH) : undefined;
const TARGET_MS = process.env.MIGRATE_BENCH_TARGET_MS ? Number(process.env.MIGRATE_BENCH_TARGET_MS) : undefined;
const ORDER = (process.env.MIGRATE_BENCH_ORDER ?? 'symphony,naive').split(',') as ApproachResult['approach'][];
const BASELINE_MS = 3_000;
const SETTINGS: Record<string, string> = {
  shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min',
  ...(process.env.MIGRATE_BENCH_PG_SETTINGS ? (JSON.parse(process.env.MIGRATE_BENCH_PG_SETTINGS) as Record<string, string>) : {}),
};

function perMigration(log: Parameters<typeof windowStats>[0], phases: Phase[]): ApproachResult['perMigration'] {
  const names = [...new Set(phases.map((p) => p.migration))];
  return Object.fromEntries(
    names.map((name) => {
      const own = phases.filter((p) => p.migration === name);
      return [name, { ...windowStats(log, own[0].from, own[own.length - 1].to), rowsPerSec: rowRate(own) }];
    }),
  );
}

function worstOf(log: Parameters<typeof windowStats>[0], phases: Phase[], from: number, to: number): ApproachResult['worst'] {
  let worst: (typeof log)[number] | null = null;
  for (const t of log) if (t.start >= from && t.start <= to && (!worst || t.end - t.start > worst.end - worst.start)) worst = t;
  if (!worst) return null;
  const sent = worst.start;
  const phase = phases.find((p) => sent >= p.from && sent <= p.to) ?? phases.filter((p) => p.from <= sent).pop() ?? phases[0];
  return { latencyMs: worst.end - worst.start, migration: phase.migration, phase: phase.phase, msIntoPhase: sent - phase.from };
}

/**
 * Start each approach from the same quiet disk: a CHECKPOINT (as the cluster's
 * superuser, whose password initdb set to the service's) writes the fill's dirty
 * buffers, then `sync` flushes the kernel's. Without it, the approach that ran
 * first had its commits' WAL fsyncs compete with writeback of the 2M-row fill.
 */
async function settle(superuser: pg.ClientConfig): Promise<void> {
  const c = new pg.Client(superuser);
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
  execFileSync('sync');
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const migrations = loadMigrations(join(ROOT, 'bench/migrate/migrations'));
  note(`starting postgres 15 through the postgres kind (${JSON.stringify(SETTINGS)})`);
  const db = await startTestPostgres({ stack: 'migbench', settings: SETTINGS });
  const connection: pg.PoolConfig = { host: '127.0.0.1', port: db.port, user: 'migbench', database: 'migbench', password: db.password };
  const results: ApproachResult[] = [];
  try {
    const admin = new pg.Client(connection);
    await admin.connect();
    for (const schema of ['sym', 'naive']) {
      note(`filling ${schema}.accounts with ${ROWS} rows`);
      await createTable(admin, schema, ROWS);
    }
    for (const approach of ORDER) {
      await settle({ ...connection, user: 'postgres' });
      const schema = approach === 'symphony' ? 'sym' : 'naive';
      note(`${approach}: writer at ${RATE} tx/s on ${CONNECTIONS} connections, ${BASELINE_MS} ms baseline, then the three migrations`);
      const writer = await startWriter({ connection, schema, rate: RATE, connections: CONNECTIONS, rows: ROWS });
      await sleep(BASELINE_MS);
      const from = performance.now();
      let phases: Phase[];
      try {
        phases = approach === 'symphony'
          ? await runEngine(`${db.url}?application_name=${ENGINE_APP}`, schema, migrations, { ...(BATCH ? { batchSize: BATCH } : {}), ...(TARGET_MS ? { batchTargetMs: TARGET_MS } : {}) }, new EngineCpu(admin))
          : await runNaive(connection, schema, migrations.map((m) => m.name), ROWS);
      } finally {
        await sleep(1000);
        await writer.stop();
      }
      const to = phases[phases.length - 1].to;
      const result: ApproachResult = {
        approach, phases,
        baseline: windowStats(writer.log, from - BASELINE_MS + 500, from),
        during: windowStats(writer.log, from, to),
        perMigration: perMigration(writer.log, phases),
        rowsPerSec: rowRate(phases),
        cpuUsPerRow: cpuPerRow(phases),
        worst: worstOf(writer.log, phases, from, to),
        final: await verify(admin, schema),
      };
      if (process.env.MIGRATE_BENCH_DUMP) writeFileSync(`${process.env.MIGRATE_BENCH_DUMP}.${approach}.json`, JSON.stringify({ from, phases, log: writer.log }));
      note(`${approach}: ${Math.round(to - from)} ms, writer p99 ${result.during.p99.toFixed(1)} ms, max ${result.during.max.toFixed(1)} ms, failed ${result.during.failed}`);
      results.push(result);
    }
    await admin.end();
  } finally {
    await db.destroy();
  }
  process.stdout.write(report(COMMAND, machine, { rows: ROWS, rate: RATE, connections: CONNECTIONS, batchSize: BATCH ?? 'engine default', postgres: SETTINGS, order: ORDER }, results) + '\n');
}

await main();
