import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirDigest } from '../src/apply/artifact.js';
import { ensureSnapshot } from '../src/apply/snapshot.js';
import type { ReleaseConfig } from '../src/plan/types.js';
import { symphony } from './helpers/cli.js';

// An app's files as a release digests and copies them: links as links, ignore files respected, too large refused.

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'symphony-artifact-'));
  made.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

function snapshot(app: string): string {
  const state = mkdtempSync(join(tmpdir(), 'symphony-artifact-state-'));
  made.push(state);
  const cfg = { kind: 'app', artifact: dirDigest(app), service: 'web' } as unknown as ReleaseConfig;
  return ensureSnapshot(state, cfg, { ordinal: '0', command: 'node server.mjs', cwd: app, env: {} });
}

const stackFile = (dir: string) => `name: shop\nservices:\n  api:\n    run: node server.mjs\n    dir: ${dir}\n`;

describe('links in an app directory', () => {
  it('a loop, a link to / and a link out of the tree are digested and copied as links, not followed', async () => {
    const root = tree({ 'shared.txt': 'outside\n', 'app/server.mjs': 'console.log(1)\n', 'app/lib/a.js': 'a\n' });
    const app = join(root, 'app');
    symlinkSync('.', join(app, 'X11'));
    symlinkSync('/', join(app, 'rootlink'));
    symlinkSync('../shared.txt', join(app, 'shared'));
    symlinkSync('lib/a.js', join(app, 'a.js'));

    const digest = dirDigest(app);
    const copy = snapshot(app);
    expect(readlinkSync(join(copy, 'X11'))).toBe('.');
    expect(readlinkSync(join(copy, 'rootlink'))).toBe('/');
    expect(readlinkSync(join(copy, 'shared'))).toBe(join(root, 'shared.txt'));
    expect(readlinkSync(join(copy, 'a.js'))).toBe('lib/a.js');
    expect(dirDigest(copy)).toBe(digest);

    // The link is the artifact: where it points counts, what is behind a link out of the tree does not.
    writeFileSync(join(root, 'shared.txt'), 'changed outside\n');
    expect(dirDigest(app)).toBe(digest);
    rmSync(join(app, 'a.js'));
    symlinkSync('server.mjs', join(app, 'a.js'));
    expect(dirDigest(app)).not.toBe(digest);

    // The way a new user meets it: plan of a dir holding the loop answers instead of dying with ELOOP.
    writeFileSync(join(root, 'symphony.yaml'), stackFile('app'));
    const r = await symphony(['plan', '-f', join(root, 'symphony.yaml'), '--state-dir', join(root, 'state')], { cwd: root });
    expect(r.stderr).not.toContain('ELOOP');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+ api +app +create +api-[0-9a-f]{8}/);
  });
});

describe('.gitignore and .symphonyignore', () => {
  it('leave their matches out of the digest and the copy; .symphonyignore comes last and can re-include', () => {
    const app = tree({
      '.gitignore': '# build output and logs\n*.log\n!keep.log\n/build/\ndist/\n',
      '.symphonyignore': 'notes/**\n!dist/\n',
      'server.mjs': 'console.log(1)\n',
      'app.log': 'noise\n',
      'keep.log': 'kept\n',
      'build/out.js': 'built\n',
      'sub/build/inner.js': 'not anchored: kept\n',
      'sub/.gitignore': 'local.txt\n',
      'sub/local.txt': 'ignored below sub\n',
      'local.txt': 'kept at the top\n',
      'notes/a/b.txt': 'ignored\n',
      'dist/server.js': 're-included\n',
    });
    const digest = dirDigest(app);
    for (const f of ['app.log', 'build/out.js', 'sub/local.txt', 'notes/a/b.txt']) {
      writeFileSync(join(app, f), 'edited\n');
      expect(dirDigest(app), f).toBe(digest);
    }
    for (const f of ['keep.log', 'sub/build/inner.js', 'local.txt', 'dist/server.js', '.symphonyignore']) {
      const before = readFileSync(join(app, f), 'utf8');
      writeFileSync(join(app, f), before + 'edited\n');
      expect(dirDigest(app), f).not.toBe(digest);
      writeFileSync(join(app, f), before);
    }
    expect(dirDigest(app)).toBe(digest);

    const copy = snapshot(app);
    expect(existsSync(join(copy, 'app.log'))).toBe(false);
    expect(existsSync(join(copy, 'build'))).toBe(false);
    expect(readdirSync(join(copy, 'notes'))).toEqual([]); // as in git: notes/** leaves the files out, not the dirs
    expect(existsSync(join(copy, 'sub', 'local.txt'))).toBe(false);
    expect(readdirSync(copy).sort()).toEqual(['.gitignore', '.symphonyignore', 'dist', 'keep.log', 'local.txt', 'notes', 'server.mjs', 'sub']);
    expect(readFileSync(join(copy, 'dist', 'server.js'), 'utf8')).toBe('re-included\n');
    expect(readFileSync(join(copy, 'sub', 'build', 'inner.js'), 'utf8')).toBe('not anchored: kept\n');
    expect(lstatSync(join(copy, 'sub')).isDirectory()).toBe(true);
  });
});

describe('a directory too large to copy for each release', () => {
  it('is named by plan with its size, and plan stops there', async () => {
    const root = tree({ 'app/server.mjs': 'console.log(1)\n' });
    writeFileSync(join(root, 'symphony.yaml'), stackFile('app'));
    writeFileSync(join(root, 'app', 'big.bin'), '');
    truncateSync(join(root, 'app', 'big.bin'), 600 * 1024 * 1024); // sparse: costs no disk
    const r = await symphony(['plan', '-f', join(root, 'symphony.yaml'), '--state-dir', join(root, 'state')], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `error: services.api.dir: app directory ${join(root, 'app')} is too large to copy for each release: at least 600 MiB in 1 file (the limit is 512 MiB or 100,000 files)`,
      `next: point dir: at the app's own directory, or leave out what it does not need to run with lines in ${join(root, 'app', '.symphonyignore')} (gitignore syntax)`,
    ]);

    writeFileSync(join(root, 'app', '.symphonyignore'), '*.bin\n');
    const ok = await symphony(['plan', '-f', join(root, 'symphony.yaml'), '--state-dir', join(root, 'state')], { cwd: root });
    expect(ok.code).toBe(0);
  });

  it('dir: / is refused by size, without following /bin/X11 or reading /proc', async () => {
    const root = tree({ 'symphony.yaml': stackFile('/') });
    const r = await symphony(['plan', '-f', join(root, 'symphony.yaml'), '--state-dir', join(root, 'state')], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: services\.api\.dir: app directory \/ is too large to copy for each release: (at least|more than) [\d.]+ (MiB|GiB|TiB) in [\d,]+ files? \(the limit is 512 MiB or 100,000 files\)\n/);
  });
});
