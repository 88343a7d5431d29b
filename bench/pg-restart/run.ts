import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SecretVault } from '../../src/secrets/vault.js';
import { StateStore } from '../../src/state/store.js';
import { freePort } from '../../src/util/ports.js';
import { cleanup, stackDir, symphony } from '../../test/helpers/cli.js';
import { startWriter, windowStats, WRITES_TABLE, type Writer } from '../backup/writer.js';
import { formatTable, machineInfo, note, writeResult } from '../lib/report.js';
import { median, round } from '../lib/stats.js';

/**
 * Postgres restart bench (issue 12). One command:
 *
 *     npm run bench:pg-restart
 *
 * A postgres 15 service applied with the real CLI; PGR_ROUNDS (3) rounds each
 * raise max_connections (a restart-only setting) with `symphony apply` while
 * two open-loop writers insert PGR_RATE (300) rows/s each: one through the
 * pooler (`${db.url}`, what dependants get), one straight to the server's
 * port (the peer: what a client of a plain restart sees). Per round and side:
 * failed transactions, the longest transaction (from its due time, so a held
 * one counts in full), and acknowledged rows found in the table afterwards.
 * Prints a table; writes bench/results/pg-restart.json.
 */
const COMMAND = 'npm run bench:pg-restart';
const RATE = Number(process.env.PGR_RATE ?? 300);
const ROUNDS = Number(process.env.PGR_ROUNDS ?? 3);
const CONNECTIONS = 8;
const stackText = (port: number, maxConnections: number): string => `name: pgr
services:
  db:
    postgres: { version: "15", port: ${port}, settings: { max_connections: ${maxConnections} } }
    volume: db-data
`;

interface Side {
  sent: number;
  failed: number;
  longestMs: number;
  p99Ms: number;
  acked: number;
  ackedFound: number;
}

async function found(conn: pg.ClientConfig, ids: number[]): Promise<number> {
  const c = new pg.Client(conn);
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${WRITES_TABLE} WHERE id = ANY($1::bigint[])`, [ids])).rows[0].n);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const serverPort = await freePort();
  const dir = stackDir({ 'symphony.yaml': stackText(serverPort, 100) });
  const state = join(dir, '.symphony');
  const cli = (...args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
  try {
    const r = await cli('apply', '--yes');
    if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
    const store = new StateStore(state);
    const password = new SecretVault(store).get('default', 'db.password');
    const poolerPort = store.service('default', 'db')!.ports.pooler;
    store.close();
    const conn = (port: number): pg.ClientConfig => ({ host: '127.0.0.1', port, user: 'pgr', database: 'pgr', password, connectionTimeoutMillis: 10_000 });
    const c = new pg.Client(conn(serverPort));
    await c.connect();
    await c.query(`CREATE TABLE ${WRITES_TABLE} (id bigint PRIMARY KEY, payload text, at timestamptz DEFAULT now())`);
    await c.end();

    const rounds: Array<{ round: number; applyMs: number; pooler: Side; direct: Side }> = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const writers: Record<'pooler' | 'direct', Writer> = {
        pooler: await startWriter(conn(poolerPort), RATE, CONNECTIONS, i * 10_000_000),
        direct: await startWriter(conn(serverPort), RATE, CONNECTIONS, i * 10_000_000 + 5_000_000),
      };
      // The direct side's pool reconnects by itself after the restart (pg.Pool drops dead clients).
      await sleep(2000);
      writeFileSync(join(dir, 'symphony.yaml'), stackText(serverPort, 100 + 10 * i));
      const t0 = performance.now();
      const applied = await cli('apply', '--yes');
      const applyMs = performance.now() - t0;
      if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
      await sleep(2000);
      const sides = {} as Record<'pooler' | 'direct', Side>;
      for (const k of ['pooler', 'direct'] as const) {
        await writers[k].stop();
        const log = writers[k].log;
        const w = windowStats(log, 0, Number.MAX_SAFE_INTEGER);
        const acked = log.filter((x) => x.ok).map((x) => x.id);
        sides[k] = { sent: log.length, failed: w.failed, longestMs: round(w.max, 0), p99Ms: round(w.p99, 1), acked: acked.length, ackedFound: await found(conn(serverPort), acked) };
      }
      rounds.push({ round: i, applyMs: round(applyMs, 0), ...sides });
      note(`round ${i}: apply ${round(applyMs, 0)} ms; pooler ${JSON.stringify(sides.pooler)}; direct ${JSON.stringify(sides.direct)}`);
    }
    const m = (k: 'pooler' | 'direct', f: keyof Side): number => median(rounds.map((x) => x[k][f]));
    const results = {
      rate: RATE,
      rounds,
      pooler: { failed: rounds.reduce((a, x) => a + x.pooler.failed, 0), longestMsMedian: m('pooler', 'longestMs'), lost: rounds.reduce((a, x) => a + x.pooler.acked - x.pooler.ackedFound, 0) },
      direct: { failed: rounds.reduce((a, x) => a + x.direct.failed, 0), longestMsMedian: m('direct', 'longestMs'), lost: rounds.reduce((a, x) => a + x.direct.acked - x.direct.ackedFound, 0) },
      applyMsMedian: median(rounds.map((x) => x.applyMs)),
    };
    console.log(
      formatTable(
        [`restart-only change under ${RATE} tx/s per side, ${ROUNDS} rounds`, 'sent', 'failed tx', 'longest tx ms (median)', 'acknowledged', 'acknowledged rows missing'],
        (['pooler', 'direct'] as const).map((k) => [
          k === 'pooler' ? 'through the pooler (${db.url})' : 'straight to the server (peer)',
          rounds.reduce((a, x) => a + x[k].sent, 0),
          results[k].failed,
          results[k].longestMsMedian,
          rounds.reduce((a, x) => a + x[k].acked, 0),
          results[k].lost,
        ]),
        0,
      ),
    );
    note(`wrote ${writeResult('pg-restart', COMMAND, machine, results)}`);
  } finally {
    await cleanup(state);
  }
}

await main();
