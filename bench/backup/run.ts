import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { BackupInfo } from '../../src/backup/types.js';
import { SecretVault } from '../../src/secrets/vault.js';
import { StateStore } from '../../src/state/store.js';
import { run } from '../../src/util/exec.js';
import { BIN, cleanup } from '../../test/helpers/cli.js';
import { formatTable, machineInfo, note, writeResult } from '../lib/report.js';
import { median, ratio, round } from '../lib/stats.js';
import { exactness, startWriter, windowStats, WRITES_TABLE, type WindowStats } from './writer.js';

/**
 * Backup bench (issue 12). One command:
 *
 *     npm run bench:backup
 *
 * A stack with one postgres 15 service and a `backup:` section, applied with the
 * real CLI, is filled to BACKUP_BENCH_MB (1024) MB. While an app-like writer
 * inserts BACKUP_BENCH_RATE (200) rows/s (open loop), BACKUP_BENCH_ROUNDS (3)
 * rounds each take a full backup with `symphony backup now --wait` (pgBackRest)
 * and, in alternating order, a raw `pg_basebackup -X stream -c fast` of the same
 * server into a plain directory (the peer). Reported: MB/s of each (database
 * size / wall time of the command), their ratio, and the writer's p99 during
 * each against the p99 before any backup. Then a point-in-time restore
 * (`symphony restore --to T`) to a moment T while the writer ran: its time, and
 * exactness (every row acknowledged before T present, every row sent after T
 * absent). Prints a table; writes bench/results/backup.json.
 */
const COMMAND = 'npm run bench:backup';
const MB = Number(process.env.BACKUP_BENCH_MB ?? 1024);
const RATE = Number(process.env.BACKUP_BENCH_RATE ?? 200);
const ROUNDS = Number(process.env.BACKUP_BENCH_ROUNDS ?? 3);
const CONNECTIONS = 8;
const BASELINE_MS = 10_000;
const GAP_MS = 3_000;

const STACK = `name: bkbench
services:
  db:
    postgres: { version: "15", settings: { shared_buffers: 256MB, max_wal_size: 4GB, checkpoint_timeout: 30min } }
    volume: bkbench-db
    backup:
      retention: { full: 20 }
`;

async function cli(dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t = performance.now();
  const r = await run(process.execPath, [BIN, ...args, '--state-dir', join(dir, '.symphony')], { cwd: dir, env: { ...process.env }, timeoutMs: 1_800_000 });
  if (r.code !== 0) throw new Error(`symphony ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}${r.stdout}`);
  return { ...r, ms: performance.now() - t };
}

function dirBytes(path: string): number {
  let sum = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    sum += e.isDirectory() ? dirBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return sum;
}

async function fill(c: pg.Client): Promise<number> {
  await c.query('CREATE TABLE fill (id bigint PRIMARY KEY, pad text NOT NULL)');
  const pad = Array.from({ length: 8 }, (_, i) => `md5((g * ${i + 3})::text)`).join(' || ');
  for (let from = 1; ; from += 250_000) {
    const size = Number((await c.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0].s);
    if (size >= MB * 1e6) return size;
    note(`filling: ${(size / 1e6).toFixed(0)} of ${MB} MB`);
    await c.query(`INSERT INTO fill SELECT g, ${pad} FROM generate_series(${from}, ${from + 249_999}) g`);
  }
}

interface Round {
  approach: 'pgbackrest' | 'pg_basebackup';
  round: number;
  ms: number;
  bytes: number;
  mbPerS: number;
  /** pgBackRest's own start→end (without the CLI and agent). */
  engineMs?: number;
  writer: WindowStats;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'symphony-bench-backup-'));
  writeFileSync(join(dir, 'symphony.yaml'), STACK);
  const state = join(dir, '.symphony');
  const rounds: Round[] = [];
  try {
    await cli(dir, ['apply', '--yes']);
    const store = new StateStore(state);
    const port = store.service('default', 'db')!.ports.port;
    const password = new SecretVault(store).get('default', 'db.password');
    store.close();
    const conn: pg.ClientConfig = { host: '127.0.0.1', port, user: 'bkbench', database: 'bkbench', password };
    const admin = new pg.Client(conn);
    await admin.connect();
    const dbBytes = await fill(admin);
    await admin.query(`CREATE TABLE ${WRITES_TABLE} (id bigint PRIMARY KEY, payload text NOT NULL)`);
    const su = new pg.Client({ ...conn, user: 'postgres' });
    await su.connect();
    await su.query('CHECKPOINT');
    // The fill's WAL is still being archived: wait for archive-push to catch up, as it has on a server that runs for a while.
    const seg = (await su.query<{ f: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS f')).rows[0].f;
    for (let i = 0; i < 600; i++) {
      const last = (await su.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver')).rows[0].w;
      if (last !== null && last >= seg) break;
      await sleep(500);
    }
    await su.end();
    note(`database ${(dbBytes / 1e6).toFixed(0)} MB; writer at ${RATE} rows/s, ${BASELINE_MS / 1000} s before any backup`);
    const writer = await startWriter(conn, RATE, CONNECTIONS, 1);
    const t0 = performance.now();
    await sleep(BASELINE_MS);
    const before = windowStats(writer.log, t0 + 1000, performance.now());
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Round['approach'][] = round % 2 ? ['pgbackrest', 'pg_basebackup'] : ['pg_basebackup', 'pgbackrest'];
      for (const approach of order) {
        const from = performance.now();
        let bytes: number;
        let engineMs: number | undefined;
        if (approach === 'pgbackrest') {
          const r = await cli(dir, ['backup', 'now', 'db', '--type', 'full', '--wait', '--json']);
          const b = (JSON.parse(r.stdout) as { backup: BackupInfo }).backup;
          bytes = b.bytes;
          engineMs = Date.parse(b.end) - Date.parse(b.start);
        } else {
          const out = join(dir, `basebackup-${round}`);
          const r = await run('/usr/lib/postgresql/15/bin/pg_basebackup', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-w', '-D', out, '-X', 'stream', '-c', 'fast'], {
            env: { ...process.env, PGPASSWORD: password },
            timeoutMs: 1_800_000,
          });
          if (r.code !== 0) throw new Error(`pg_basebackup failed: ${r.stderr}`);
          bytes = dirBytes(out);
          rmSync(out, { recursive: true, force: true });
        }
        const to = performance.now();
        const ms = to - from;
        const w = windowStats(writer.log, from, to);
        rounds.push({ approach, round, ms: round2(ms), bytes, mbPerS: round2(bytes / 1e6 / (ms / 1000)), ...(engineMs ? { engineMs } : {}), writer: w });
        note(`round ${round} ${approach}: ${(bytes / 1e6).toFixed(0)} MB in ${(ms / 1000).toFixed(1)} s = ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s; writer p99 ${w.p99} ms (before ${before.p99}), failed ${w.failed}`);
        await sleep(GAP_MS);
      }
    }
    // A moment in the middle of the writes, then a few more seconds of them.
    await sleep(2000);
    const target = Date.now();
    await sleep(3000);
    await writer.stop();
    await admin.end();
    const targetIso = new Date(target).toISOString();
    note(`restoring to ${targetIso}`);
    const restore = await cli(dir, ['restore', 'db', '--to', targetIso, '--yes']);
    const c = new pg.Client(conn);
    await c.connect();
    const present = new Set((await c.query<{ id: string }>(`SELECT id FROM ${WRITES_TABLE}`)).rows.map((r) => Number(r.id)));
    const fillRows = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM fill')).rows[0].n);
    await c.end();
    const exact = exactness(writer.log, present, target);
    const failedWrites = writer.log.filter((w) => w.ok === false).length;
    const pitr = { target: targetIso, restoreMs: round2(restore.ms), ...exact, wrongRows: exact.missing + exact.extra, fillRows, failedWrites };
    report(machine, dbBytes, before, rounds, pitr);
  } finally {
    await run(process.execPath, [BIN, 'destroy', '--yes', '--volumes', '--state-dir', state], { cwd: dir, timeoutMs: 120_000 }).catch(() => undefined);
    await cleanup(state);
    rmSync(dir, { recursive: true, force: true });
  }
}

const round2 = (x: number): number => round(x, 2);

function report(machine: ReturnType<typeof machineInfo>, dbBytes: number, before: WindowStats, rounds: Round[], pitr: Record<string, number | string>): void {
  const per = (a: Round['approach']) => {
    const mine = rounds.filter((r) => r.approach === a);
    return { approach: a, rounds: mine.length, mbPerS: median(mine.map((r) => r.mbPerS)), seconds: round2(median(mine.map((r) => r.ms)) / 1000), writerP99: median(mine.map((r) => r.writer.p99)), failed: mine.reduce((s, r) => s + r.writer.failed, 0) };
  };
  const sym = per('pgbackrest');
  const raw = per('pg_basebackup');
  const ratios = { throughputVsPgBasebackup: ratio(sym.mbPerS, raw.mbPerS), writerP99DuringVsBefore: ratio(sym.writerP99, before.p99), peerWriterP99DuringVsBefore: ratio(raw.writerP99, before.p99) };
  const table = formatTable(
    ['backup of the same server', 'rounds', 'MB/s (median)', 's (median)', 'writer p99 during, ms', 'p99 before, ms', 'failed writes'],
    [sym, raw].map((r) => [r.approach === 'pgbackrest' ? 'symphony backup now (pgBackRest, lz4)' : 'pg_basebackup -X stream (plain)', r.rounds, r.mbPerS, r.seconds, r.writerP99, before.p99, r.failed]),
  );
  const restoreTable = formatTable(
    ['point-in-time restore', 'restore s', 'rows acked before T', 'missing', 'rows sent after T', 'present', 'in flight at T'],
    [['symphony restore --to T', round2((pitr.restoreMs as number) / 1000), pitr.before, pitr.missing, pitr.after, pitr.extra, pitr.straddling]],
  );
  const path = writeResult('backup', COMMAND, machine, { databaseMB: round2(dbBytes / 1e6), rate: RATE, connections: CONNECTIONS, before, summary: { pgbackrest: sym, pg_basebackup: raw }, ratios, rounds, pitr });
  process.stdout.write(`${table}\n\n${restoreTable}\n\nthroughput pgBackRest / pg_basebackup: ${ratios.throughputVsPgBasebackup} (target >= 0.9); writer p99 during backup / before: ${ratios.writerP99DuringVsBefore} (target <= 1.2; pg_basebackup ${ratios.peerWriterP99DuringVsBefore}); wrong rows after restore: ${pitr.wrongRows} (target 0)\nwrote ${path}\n`);
}

await main();
