import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Create the state dir if it is missing: 0711 whatever the umask (and so are the
 * parents it creates), so others may traverse it (a database server account must
 * reach its volume) but not list it. A state dir that exists keeps the mode its
 * owner gave it.
 */
export function makeStateDir(stateDir: string): void {
  if (existsSync(stateDir)) return;
  makeTraversable(stateDir);
}

/** mkdir -p where each directory it creates is 0711 whatever the umask; existing ones keep their mode. */
export function makeTraversable(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o711 });
  if (!first) return;
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, 0o711);
    if (d === first || dirname(d) === d) break;
  }
}
