import { relative } from 'node:path';
import type { CompleteResult, RollbackResult, StartResult } from '../engine.js';
import { connectionOptionsFor } from '../names.js';
import type { MovedAside } from '../plan-types.js';
import { describeTarget, type MigrationTarget } from './target.js';
import { nextStep, type MigrationRow } from './versions.js';

/** What `symphony migrate status --json` prints. */
export interface MigrateStatusView {
  target: MigrationTarget;
  /** Schema apps use when nothing is in flight. */
  current: string;
  inFlight: string | null;
  migrations: MigrationRow[];
  next: string;
}

function shortPath(path: string | null): string {
  if (!path) return '(file gone)';
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function asideLines(moved: MovedAside[], indent: string): string[] {
  return moved.map((m) => `${indent}${m.kind} ${m.kind === 'column' ? `${m.table}.${m.from}` : m.from} kept as ${m.kind === 'column' ? `${m.table}.${m.to}` : m.to}`);
}

export function renderStatus(v: MigrateStatusView): string {
  const lines = [
    `${describeTarget(v.target)}  migrations ${v.target.migrationsDir ? shortPath(v.target.migrationsDir) : '(none configured)'}`,
    `current schema: ${v.current}${v.inFlight ? `   in flight: ${v.inFlight}` : ''}`,
  ];
  if (v.migrations.length === 0) lines.push('no migrations');
  const width = Math.max(8, ...v.migrations.map((m) => m.name.length));
  for (const m of v.migrations) {
    const when = m.completedAt ? `finished ${m.completedAt}` : m.startedAt ? `started ${m.startedAt}` : '';
    lines.push(`  ${m.name.padEnd(width)}  ${m.status.padEnd(11)}  ${(m.schema ?? '-').padEnd(width + 8)}  ${when}`.trimEnd());
    if (m.error) lines.push(`    error: ${m.error}`);
    if (m.status === 'in-flight') for (const [table, key] of Object.entries(m.backfillProgress)) lines.push(`    backfill of ${table} committed up to key ${key}`);
    lines.push(...asideLines(m.movedAside, '    rolled back, '));
  }
  lines.push(`next: ${v.next}`);
  return lines.join('\n');
}

export function statusView(target: MigrationTarget, current: string, inFlight: string | null, rows: MigrationRow[]): MigrateStatusView {
  return { target, current, inFlight, migrations: rows, next: nextStep(rows) };
}

export function renderStart(t: MigrationTarget, r: StartResult): string {
  const filled = Object.entries(r.backfilled).map(([table, n]) => `${table}: ${n} rows`);
  return [
    `${r.resumed ? 'resumed' : 'started'} migration ${r.version} on ${describeTarget(t)}`,
    `  new version: schema ${r.schema} (old version: schema ${r.previousSchema})`,
    ...(filled.length ? [`  backfilled ${filled.join(', ')}`] : []),
    `  clients pick it with search_path: PGOPTIONS='${connectionOptionsFor(r.schema).options}'`,
    'next: once the old release is gone: symphony migrate complete; to undo: symphony migrate rollback',
  ].join('\n');
}

export function renderComplete(t: MigrationTarget, r: CompleteResult): string {
  return [`completed migration ${r.version} on ${describeTarget(t)}`, `  current schema: ${r.schema} (dropped the old version's schema ${r.droppedSchema})`].join('\n');
}

export function renderRollback(t: MigrationTarget, r: RollbackResult): string {
  return [
    `rolled back migration ${r.version} on ${describeTarget(t)}; schema ${r.schema} removed`,
    ...(r.movedAside.length
      ? ['  what the new version wrote is kept, not dropped:', ...asideLines(r.movedAside, '    '), '  read it from there; drop those yourself when you no longer need them']
      : ['  nothing to keep: the migration added no columns or tables']),
  ].join('\n');
}
