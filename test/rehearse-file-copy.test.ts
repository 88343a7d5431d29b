import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFilesVerified, manifestChanges, readManifest, recentlyChanged, type Manifest, type ManifestEntry } from '../src/rehearse/file-copy.js';

// How a plain (app) volume is copied for a rehearsal: file by file, then
// verified against a second manifest; a volume that changed during the copy
// is reported as not point-in-time. Real files and a real writer process.
const entry = (o: Partial<{ size: number; ino: number; mtimeMs: number; ctimeMs: number }> = {}) =>
  ({ type: 'file' as const, size: 1, ino: 1, mtimeMs: 1000, ctimeMs: 1000, ...o });

let root = '';
let writer: ChildProcess | null = null;

afterEach(async () => {
  if (writer && writer.exitCode === null) {
    writer.kill('SIGKILL');
    await new Promise((r) => writer!.once('exit', r));
  }
  writer = null;
  if (root) rmSync(root, { recursive: true, force: true });
  root = '';
});

/** A volume of `n` files in two directories and a symlink, dated an hour ago, then left alone for 150 ms (ctime is now). */
async function quietVolume(n: number): Promise<string> {
  root = mkdtempSync(join(tmpdir(), 'sym-rh-files-'));
  const vol = join(root, 'vol');
  mkdirSync(join(vol, 'a/b'), { recursive: true });
  const old = new Date(Date.now() - 3600_000);
  for (let i = 0; i < n; i++) {
    const f = join(vol, i % 2 ? 'a' : 'a/b', `f${i}.txt`);
    writeFileSync(f, `file ${i}\n`.repeat(50));
    utimesSync(f, old, old);
  }
  symlinkSync('a/f1.txt', join(vol, 'link'));
  await sleep(150);
  return vol;
}

describe('manifest comparison (pure)', () => {
  it('names added, removed and changed entries, and nothing for an unchanged tree', () => {
    const a: Manifest = new Map([['x', entry()], ['y', entry({ ino: 2 })], ['z', entry({ ino: 3 })]]);
    expect(manifestChanges(a, new Map(a))).toEqual([]);
    const b: Manifest = new Map([['x', entry({ mtimeMs: 1000.5 })], ['y', entry({ ino: 2, size: 2 })], ['w', entry({ ino: 4 })]]);
    expect(manifestChanges(a, b)).toEqual(['w', 'x', 'y', 'z']);
    expect(manifestChanges(a, new Map([...a, ['z', entry({ ino: 9 })]]))).toEqual(['z']);
  });

  it('counts a file as recently changed by its data or metadata time, directories never', () => {
    const m: Manifest = new Map<string, ManifestEntry>([
      ['old', entry({ mtimeMs: 1000, ctimeMs: 1000 })],
      ['data', entry({ mtimeMs: 9950, ctimeMs: 1000 })],
      ['meta', entry({ mtimeMs: 1000, ctimeMs: 9995 })],
      ['d', { ...entry({ mtimeMs: 9999 }), type: 'dir' }],
    ]);
    expect(recentlyChanged(m, 10_000, 100)).toEqual(['data', 'meta']);
    expect(recentlyChanged(m, 10_000, 10)).toEqual(['meta']);
  });
});

describe('verified file copy of a volume', () => {
  it('copies a quiet volume once, as a point-in-time image with the same contents', async () => {
    const vol = await quietVolume(200);
    const r = await copyFilesVerified(vol, join(root, 'copy'));
    expect(r).toEqual({ consistent: true, attempts: 1, changed: [], files: 201 });
    const src = readManifest(vol);
    const dst = readManifest(join(root, 'copy'));
    expect([...dst.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [p, e] of src) if (e.type === 'file') expect([p, dst.get(p)!.size, dst.get(p)!.mtimeMs]).toEqual([p, e.size, e.mtimeMs]);
    expect(readlinkSync(join(root, 'copy/link'))).toBe('a/f1.txt');
    expect(readFileSync(join(root, 'copy/a/b/f0.txt'), 'utf8')).toBe(readFileSync(join(vol, 'a/b/f0.txt'), 'utf8'));
  });

  it('waits for a file written just before the copy, then copies it once quiet', async () => {
    const vol = await quietVolume(10);
    writeFileSync(join(vol, 'a/fresh.txt'), 'just written\n');
    const r = await copyFilesVerified(vol, join(root, 'copy'), { settleMs: 200 });
    expect(r.consistent).toBe(true);
    expect(r.attempts).toBe(2);
    expect(readFileSync(join(root, 'copy/a/fresh.txt'), 'utf8')).toBe('just written\n');
  });

  it('reports a volume an app keeps writing as not point-in-time, naming the file, after every attempt', async () => {
    const vol = await quietVolume(300);
    const log = join(vol, 'a/app.log');
    writeFileSync(log, '');
    writer = spawn(process.execPath, ['-e', `const fs = require('fs'); let i = 0; setInterval(() => fs.appendFileSync(${JSON.stringify(log)}, 'line ' + i++ + '\\n'), 1);`], { stdio: 'ignore' });
    while (readFileSync(log, 'utf8') === '') await sleep(20);
    // A 500 ms settle time: even a writer starved by a loaded machine writes within it, so no attempt can find the log quiet.
    const r = await copyFilesVerified(vol, join(root, 'copy'), { attempts: 3, settleMs: 500 });
    expect(r.consistent).toBe(false);
    expect(r.attempts).toBe(3);
    expect(r.changed).toEqual(['a/app.log']);
    expect(readManifest(join(root, 'copy')).size).toBe(readManifest(vol).size);
  });

  it('without a settle time, still sees a write made while the volume is being copied', async () => {
    const vol = await quietVolume(2000);
    const log = join(vol, 'late.log');
    writer = spawn(process.execPath, ['-e', `const fs = require('fs'); setInterval(() => fs.appendFileSync(${JSON.stringify(log)}, 'x'), 1);`], { stdio: 'ignore' });
    while (!existsSync(log)) await sleep(20);
    // settleMs 0: nothing counts as "recently written" beforehand; the manifest after the copy must catch it.
    const r = await copyFilesVerified(vol, join(root, 'copy'), { attempts: 1, settleMs: 0 });
    expect(r.consistent).toBe(false);
    expect(r.changed).toEqual(['late.log']);
  });
});
