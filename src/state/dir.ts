import { chmodSync, existsSync, mkdirSync } from 'node:fs';

/**
 * Create the state dir if it is missing: 0711 whatever the umask, so others
 * may traverse it (a database server account must reach its volume) but not
 * list it. A state dir that exists keeps the mode its owner gave it.
 */
export function makeStateDir(stateDir: string): void {
  if (existsSync(stateDir)) return;
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  chmodSync(stateDir, 0o711);
}
