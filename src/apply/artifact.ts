import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Names a release's digest (and its snapshot) leaves out, at any depth. */
export const DIGEST_SKIP: ReadonlySet<string> = new Set(['node_modules', '.git', '.symphony']);

/**
 * Digest of an app's files (paths, modes and contents), so that a change of
 * code replaces the release and nothing else does. Skips node_modules, .git
 * and state dirs.
 */
export function dirDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (DIGEST_SKIP.has(name)) continue;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        hash.update(`${relative(root, path)}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
        hash.update(readFileSync(path));
        hash.update('\0');
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}
