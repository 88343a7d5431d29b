import { formatTable, type MachineInfo, writeResult } from '../lib/report.js';
import { ratio, round } from '../lib/stats.js';
import type { Phase } from './scenarios.js';
import type { WindowStats } from './writer.js';

/** Everything measured for one approach (Symphony's engine, or the naive ALTER TABLE). */
export interface ApproachResult {
  approach: 'symphony' | 'naive';
  phases: Phase[];
  /** The writer before any migration ran (its normal latency). */
  baseline: WindowStats;
  /** The writer from the first migration's start to the last one's end. */
  during: WindowStats;
  perMigration: Record<string, WindowStats & { rowsPerSec: number | null }>;
  /** Rows backfilled (or rewritten) per second over the phases that touched rows. */
  rowsPerSec: number | null;
  /** Server CPU µs of the engine's backends per backfilled row (Symphony only). */
  cpuUsPerRow: number | null;
  /** The slowest writer transaction during the migrations, and the phase it was sent in. */
  worst: { latencyMs: number; migration: string; phase: string; msIntoPhase: number } | null;
  final: { rows: number; columns: Record<string, string>; nullTiers: number };
}

export const TARGETS = { p99Ms: 50, maxMs: 250, failed: 0, backfillRowsPerSec: 50_000 };

function rounded(w: WindowStats): WindowStats {
  return { ...w, ms: round(w.ms, 0), txPerSec: round(w.txPerSec, 0), p50: round(w.p50), p99: round(w.p99), max: round(w.max), stallMs: round(w.stallMs) };
}

/** Rows per second over the phases that backfilled or rewrote rows. */
export function rowRate(phases: Phase[]): number | null {
  const busy = phases.filter((p) => (p.rows ?? 0) > 0);
  const ms = busy.reduce((a, p) => a + (p.to - p.from), 0);
  return busy.length && ms > 0 ? round((busy.reduce((a, p) => a + (p.rows ?? 0), 0) * 1000) / ms, 0) : null;
}

function row(label: string, migration: string, w: WindowStats, rate: number | null): (string | number | null)[] {
  return [label, migration, round(w.ms, 0), round(w.txPerSec, 0), round(w.p50), round(w.p99), round(w.max), round(w.stallMs), w.failed, rate];
}

/** Server CPU µs per row over the phases that backfilled rows (null without CPU samples). */
export function cpuPerRow(phases: Phase[]): number | null {
  const busy = phases.filter((p) => (p.rows ?? 0) > 0 && p.serverCpuMs !== undefined);
  const rows = busy.reduce((a, p) => a + (p.rows ?? 0), 0);
  return rows > 0 ? round((busy.reduce((a, p) => a + (p.serverCpuMs ?? 0), 0) * 1000) / rows, 2) : null;
}

/** Print the side-by-side table and the target check; write bench/results/migrate.json. */
export function report(command: string, machine: MachineInfo, settings: Record<string, unknown>, results: ApproachResult[]): string {
  const rows: (string | number | null)[][] = [];
  for (const r of results) {
    rows.push(row(r.approach, 'writer before', r.baseline, null));
    for (const [name, w] of Object.entries(r.perMigration)) rows.push(row(r.approach, name, w, w.rowsPerSec));
    rows.push(row(r.approach, 'all three', r.during, r.rowsPerSec));
  }
  const table = formatTable(['approach', 'migration', 'ms', 'tx/s', 'p50 ms', 'p99 ms', 'max ms', 'stall ms', 'failed', 'rows/s'], rows.map((r) => r.map((v, i) => (i === 1 ? String(v) : v))), 1);
  const ours = results.find((r) => r.approach === 'symphony');
  const naive = results.find((r) => r.approach === 'naive');
  const lines = [table, ''];
  const checks: Record<string, { measured: number | null; target: number; ok: boolean }> = {};
  if (ours) {
    checks.p99Ms = { measured: round(ours.during.p99), target: TARGETS.p99Ms, ok: ours.during.p99 <= TARGETS.p99Ms };
    checks.maxMs = { measured: round(ours.during.max), target: TARGETS.maxMs, ok: ours.during.max <= TARGETS.maxMs };
    checks.failed = { measured: ours.during.failed, target: TARGETS.failed, ok: ours.during.failed === 0 };
    checks.backfillRowsPerSec = { measured: ours.rowsPerSec, target: TARGETS.backfillRowsPerSec, ok: (ours.rowsPerSec ?? 0) >= TARGETS.backfillRowsPerSec };
    for (const [k, c] of Object.entries(checks)) lines.push(`${c.ok ? 'met   ' : 'MISSED'} ${k}: measured ${c.measured}, target ${k === 'backfillRowsPerSec' ? '>=' : '<='} ${c.target}`);
  }
  const ratios = ours && naive ? { stall: ratio(naive.during.stallMs, ours.during.stallMs), max: ratio(naive.during.max, ours.during.max), p99: ratio(naive.during.p99, ours.during.p99) } : null;
  for (const r of results) {
    if (r.worst) lines.push(`${r.approach}: slowest writer tx ${round(r.worst.latencyMs)} ms, sent ${round(r.worst.msIntoPhase, 0)} ms into ${r.worst.migration} ${r.worst.phase}`);
  }
  if (ours?.cpuUsPerRow != null) lines.push(`symphony: engine backends' server CPU ${ours.cpuUsPerRow} us per backfilled row`);
  if (ratios) lines.push(`naive / symphony: writer stall ${ratios.stall}x, max latency ${ratios.max}x, p99 ${ratios.p99}x`);
  const path = writeResult('migrate', command, machine, {
    settings,
    targets: TARGETS,
    checks,
    ratios,
    approaches: results.map((r) => ({
      ...r,
      baseline: rounded(r.baseline),
      during: rounded(r.during),
      perMigration: Object.fromEntries(Object.entries(r.perMigration).map(([k, w]) => [k, { ...rounded(w), rowsPerSec: w.rowsPerSec }])),
      phases: r.phases.map((p) => ({ migration: p.migration, phase: p.phase, ms: round(p.to - p.from, 0), rows: p.rows ?? null, serverCpuMs: p.serverCpuMs ?? null })),
    })),
  });
  lines.push(`wrote ${path}`);
  return lines.join('\n');
}
