import { copyFileSync, existsSync, lstatSync, readdirSync, renameSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface RotateOptions {
  /** Rotate once the live file reaches this size. */
  maxBytes: number;
  /** How many rotated files to keep (`.1` newest … `.<keep>` oldest). */
  keep: number;
}

/**
 * Rotate one log file, copytruncate style: shift `.1`→`.2`…, copy the live
 * file to `.1`, truncate it. The instance keeps its O_APPEND descriptor and
 * simply writes at the new end. Lines written between the copy and the
 * truncate are lost (the known cost of copytruncate; the window is one copy).
 * Returns true when the file was rotated.
 */
export function rotateLog(file: string, opts: RotateOptions): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < opts.maxBytes) return false;
  const keep = Math.max(1, Math.floor(opts.keep));
  const oldest = `${file}.${keep}`;
  if (existsSync(oldest)) unlinkSync(oldest);
  for (let n = keep - 1; n >= 1; n--) {
    const from = `${file}.${n}`;
    if (existsSync(from)) renameSync(from, `${file}.${n + 1}`);
  }
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  return true;
}

/**
 * Rotate every live `*.log` file in a log directory that reached `maxBytes`.
 * The agent calls this periodically. Returns the files that were rotated.
 */
export function rotateLogs(logDir: string, opts: RotateOptions): string[] {
  let names: string[];
  try {
    names = readdirSync(logDir);
  } catch {
    return [];
  }
  const rotated: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.log')) continue;
    const file = join(logDir, name);
    // A link names another instance's file (a process handed over to a new release): rotated once, under its own name.
    if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) continue;
    if (rotateLog(file, opts)) rotated.push(file);
  }
  return rotated;
}
