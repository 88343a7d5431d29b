import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ROOT, stackDir, symphony } from './helpers/cli.js';

/**
 * The build (scripts/build.mjs): the CLI bundle comes with a V8 code cache made
 * for exactly that bundle, V8 accepts it in a plain `node`, and the daemons'
 * entry files are where the CLI and the agent spawn them.
 */
const CLI = join(ROOT, 'dist/cli');

describe('build output', () => {
  it('has a code cache named after the bundle it was made from, and V8 accepts it', () => {
    expect(existsSync(join(CLI, 'cli.cjs')), 'run `npm run build` first').toBe(true);
    const source = readFileSync(join(CLI, 'cli.cjs'), 'utf8');
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const caches = readdirSync(CLI).filter((f) => f.endsWith('.cache'));
    expect(caches).toEqual([`cli.cjs.${hash}.cache`]);
    // The same wrapper as src/cli/entry.ts: another one would change the source V8 sees.
    expect(readFileSync(join(CLI, 'main.js'), 'utf8')).toContain(hash);
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
      filename: join(CLI, 'cli.cjs'),
      lineOffset: -1,
      cachedData: readFileSync(join(CLI, caches[0])),
    });
    expect(script.cachedDataRejected).toBe(false);
  });

  it('has the entry files the CLI and the agent spawn', () => {
    for (const f of ['agent/main.js', 'router/main.js', 'router/follower.js', 'cli/main.js']) expect(existsSync(join(ROOT, 'dist', f)), f).toBe(true);
  });

  it('runs a verb from the bundle and refuses an unknown one', async () => {
    const dir = stackDir({ 'symphony.yaml': 'name: b\nservices:\n  web: { run: node server.mjs }\n', 'server.mjs': '' });
    try {
      const ok = await symphony(['validate'], { cwd: dir });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('valid (1 services');
      expect(ok.stderr).toBe('');
      const bad = await symphony(['frobnicate'], { cwd: dir });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("unknown command 'frobnicate'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
