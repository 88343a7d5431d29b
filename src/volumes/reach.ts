import { existsSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTraversable } from '../state/dir.js';
import { isOutside, OWNER_FILE, rootOfVolume } from './placement.js';

/** An OS account a server runs as, with no supplementary groups (setpriv --clear-groups). */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The first existing directory on the way to `dir` (from `/` down) that the
 * account cannot traverse, or null. Judged by owner, group and other search
 * bits as the kernel does for an account without supplementary groups.
 * Directories that do not exist yet are skipped: Symphony creates them 0711.
 */
export function blockingDir(account: Account, dir: string): string | null {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    if (!existsSync(d)) continue;
    const st = statSync(d);
    const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return d;
  }
  return null;
}

/**
 * Create the directories above a volume 0711 (traversable, not listable) whatever the
 * umask, as blockingDir assumed of them; a shared root gets its owner file.
 */
export function makeVolumeParents(stateDir: string, path: string): void {
  makeTraversable(dirname(path));
  if (!isOutside(stateDir, path)) return;
  const owner = join(rootOfVolume(path), OWNER_FILE);
  if (!existsSync(owner)) writeFileSync(owner, stateDir + '\n', { mode: 0o644 });
}

/** Remove a volume; a shared root left empty (but for its owner file naming this state dir) goes too. */
export function removeVolume(stateDir: string, path: string): void {
  rmSync(path, { recursive: true, force: true });
  if (!isOutside(stateDir, path)) return;
  const root = rootOfVolume(path);
  for (const d of [dirname(path), dirname(dirname(path))]) tryRmdir(d);
  const owner = join(root, OWNER_FILE);
  if (existsSync(owner) && readFileSync(owner, 'utf8').trim() === stateDir) {
    rmSync(owner, { force: true });
    if (!tryRmdir(root)) writeFileSync(owner, stateDir + '\n', { mode: 0o644 });
  }
}

function tryRmdir(d: string): boolean {
  try {
    rmdirSync(d);
    return true;
  } catch {
    return false;
  }
}
