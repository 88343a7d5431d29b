import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RouterConfigCorruptError } from './errors.js';
import type { RouterConfig } from './types.js';
import { parseConfig } from './validate.js';

/** Name of the config file inside the router's directory. */
export const CONFIG_FILE = 'router.json';

/**
 * The router's config on disk. Every save is atomic: write a temp file, fsync it,
 * rename it over the old one, fsync the directory. A crash leaves the old or the new file.
 */
export class ConfigStore {
  readonly file: string;
  private readonly tmp: string;

  constructor(readonly dir: string) {
    this.file = join(dir, CONFIG_FILE);
    this.tmp = join(dir, `.${CONFIG_FILE}.tmp`);
  }

  /** The saved config, or an empty one (version 0) when none was saved yet. */
  async load(): Promise<RouterConfig> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 0, routes: [] };
      throw err;
    }
    try {
      return parseConfig(JSON.parse(text));
    } catch (err) {
      throw new RouterConfigCorruptError(this.file, err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
  }

  async save(config: RouterConfig): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const fh = await open(this.tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(config, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(this.tmp, this.file);
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
