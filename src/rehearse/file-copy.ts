import { cpSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A plain volume (an app's files) cannot be snapshotted by Symphony: it has
 * no filesystem snapshots, and stopping the app would touch the target. It is
 * copied file by file and then *verified*: the copy counts as point-in-time
 * only when no file of the volume changed from before the copy began until
 * after it ended. An app writing all along is reported, not hidden.
 */

/** One entry of a volume: what changes when a file is written, renamed, created or removed. */
export interface ManifestEntry {
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  ino: number;
  /** Last data / metadata change, in ms since the epoch (sub-ms precision where the filesystem has it). */
  mtimeMs: number;
  ctimeMs: number;
}

/** Relative path -> entry, for every entry under a volume root. */
export type Manifest = Map<string, ManifestEntry>;

/** Paths that differ between two manifests of the same tree (added, removed or changed), sorted. Pure. */
export function manifestChanges(before: Manifest, after: Manifest): string[] {
  const out = new Set<string>();
  for (const [path, a] of before) {
    const b = after.get(path);
    if (!b || a.type !== b.type || a.size !== b.size || a.ino !== b.ino || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs) out.add(path);
  }
  for (const path of after.keys()) if (!before.has(path)) out.add(path);
  return [...out].sort();
}

/**
 * Entries changed less than `settleMs` before `takenAt`. The kernel stamps
 * times from a coarse clock (one tick, 4–10 ms), so a write just after the
 * manifest can carry the same time as one just before it; an entry that was
 * quiet for `settleMs` cannot. Pure.
 */
export function recentlyChanged(m: Manifest, takenAt: number, settleMs: number): string[] {
  return [...m].filter(([, e]) => e.type !== 'dir' && Math.max(e.mtimeMs, e.ctimeMs) > takenAt - settleMs).map(([p]) => p).sort();
}

/** Stat every entry under `root` (not following links). */
export function readManifest(root: string): Manifest {
  const out: Manifest = new Map();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      let st;
      try {
        st = lstatSync(join(root, path));
      } catch {
        continue; // removed while walking: the next manifest sees it gone
      }
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'other';
      out.set(path, { type, size: type === 'dir' ? 0 : st.size, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
      if (type === 'dir') walk(path);
    }
  };
  walk('');
  return out;
}

export interface FileCopyResult {
  /** No entry of the volume changed between the manifest before and the one after the copy. */
  consistent: boolean;
  attempts: number;
  /** Entries seen changing on the last attempt (empty when consistent). */
  changed: string[];
  files: number;
}

export interface FileCopyOptions {
  /** Copies tried before giving up on a point-in-time copy (default 3). */
  attempts?: number;
  /** How long an entry must have been quiet before the copy starts (default 100 ms). */
  settleMs?: number;
}

/**
 * Copy `from` to `to` (replacing `to`) and verify that nothing under `from`
 * changed meanwhile; retry after a pause when it did. The last copy stays in
 * place either way; `consistent` says whether it is a point-in-time image.
 */
export async function copyFilesVerified(from: string, to: string, o: FileCopyOptions = {}): Promise<FileCopyResult> {
  const attempts = o.attempts ?? 3;
  const settleMs = o.settleMs ?? 100;
  let changed: string[] = [];
  let files = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const takenAt = Date.now();
    const before = readManifest(from);
    const hot = recentlyChanged(before, takenAt, settleMs);
    rmSync(to, { recursive: true, force: true });
    cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    changed = [...new Set([...hot, ...manifestChanges(before, readManifest(from))])].sort();
    files = [...before.values()].filter((e) => e.type !== 'dir').length;
    if (changed.length === 0) return { consistent: true, attempts: attempt, changed, files };
    if (attempt < attempts) await sleep(settleMs);
  }
  return { consistent: false, attempts, changed, files };
}
