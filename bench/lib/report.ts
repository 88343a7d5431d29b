import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, type as osType, release as osRelease } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib/../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where every bench writes its JSON results. */
export const RESULTS_DIR = join(ROOT, 'bench/results');

/** What a result needs to be compared with another run: machine, load, versions and commit. */
export interface MachineInfo {
  date: string;
  node: string;
  os: string;
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  freeMemoryMiB: number;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: [number, number, number];
  git: { commit: string | null; dirty: boolean | null };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Describe this machine and checkout. Call it at the start of a bench (load average then). */
export function machineInfo(): MachineInfo {
  const [l1, l5, l15] = loadavg().map((x) => Math.round(x * 100) / 100);
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    date: new Date().toISOString(),
    node: process.version,
    os: `${osType()} ${osRelease()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMiB: Math.round(freemem() / 2 ** 20),
    loadAverage: [l1, l5, l15],
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
  };
}

/** A column of a printed table: header, and whether it is right-aligned (numbers). */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Format a plain-text table with aligned columns; cells are strings or numbers (fixed to `decimals`). */
export function formatTable(columns: readonly (Column | string)[], rows: readonly (readonly (string | number | null)[])[], decimals = 1): string {
  const cols: Column[] = columns.map((c, i) => (typeof c === 'string' ? { header: c, align: i === 0 ? 'left' : 'right' } : c));
  const cells = rows.map((r) => r.map((v) => (v === null ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(decimals)) : v)));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => (cols[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A bench's JSON result: its name, the machine it ran on, and what it measured. */
export interface BenchResult<T> {
  bench: string;
  command: string;
  machine: MachineInfo;
  results: T;
}

/**
 * Write bench/results/<name>.json atomically (temp file, rename) and return its path.
 * `machine` should be taken when the bench started.
 */
export function writeResult<T>(name: string, command: string, machine: MachineInfo, results: T): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const body: BenchResult<T> = { bench: name, command, machine, results };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n');
  renameSync(tmp, path);
  return path;
}

/** A progress line on stderr, so that stdout carries only the table. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
