import { createHash } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Where volumes live. By default under the state dir
 * (`<state>/volumes/<env>/<name>`). A service whose server runs as another OS
 * account (postgres, when Symphony runs as root) needs every directory above
 * its volume to be traversable by that account; a state dir in a private
 * (0700) directory is not, so such a service's volume goes under a root
 * Symphony owns instead: `<shared>/<hash of the state dir>/volumes/<env>/<name>`
 * (`<shared>` is /var/lib/symphony). Pure.
 */

/** Base of the Symphony-owned roots; tests point it elsewhere with SYMPHONY_SHARED_ROOT. */
export function sharedBase(): string {
  return process.env.SYMPHONY_SHARED_ROOT ?? '/var/lib/symphony';
}

/** The Symphony-owned root of one state dir: `<shared>/<16 hex of sha256(state dir)>`. */
export function sharedRootOf(stateDir: string, base = sharedBase()): string {
  return join(base, createHash('sha256').update(stateDir).digest('hex').slice(0, 16));
}

/** `<root>/volumes/<env>/<name>`, where root is the state dir or its shared root. */
export function volumePathUnder(root: string, env: string, volume: string): string {
  return join(root, 'volumes', env, volume);
}

/** The volume lies outside the state dir (under a shared root). */
export function isOutside(stateDir: string, path: string): boolean {
  const rel = relative(stateDir, path);
  return rel.startsWith('..') || rel.startsWith(sep);
}

/** The shared root a volume path outside the state dir lies in (`<root>/volumes/<env>/<name>` → `<root>`). */
export function rootOfVolume(path: string): string {
  return dirname(dirname(dirname(path)));
}

/** File in a shared root that names the state dir it belongs to (for people looking at /var/lib/symphony). */
export const OWNER_FILE = 'STATE_DIR';

/** Where a planned volume goes and, when outside the state dir, why. */
export interface VolumePlacement {
  root: string;
  /** Why the volume is not under the state dir (`the postgres account cannot traverse /root`). */
  reason: string;
}
