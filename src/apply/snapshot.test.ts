import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReleaseConfig } from '../plan/types.js';
import { StateStore } from '../state/store.js';
import { dirDigest } from './artifact.js';
import { ArtifactChangedError, artifactDir, ensureSnapshot, KEEP_RECENT_RELEASES, keptArtifacts, pruneSnapshots, snapshotsInUse } from './snapshot.js';

const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function appDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'symphony-snap-'));
  const app = join(root, 'web');
  mkdirSync(join(app, 'lib'), { recursive: true });
  mkdirSync(join(app, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(app, 'server.mjs'), 'console.log("v1")\n');
  writeFileSync(join(app, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(app, 'lib', 'a.js'), 'export const a = 1;\n');
  writeFileSync(join(app, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
  return app;
}

const cfgOf = (artifact: string, kind = 'app'): ReleaseConfig => ({ kind, artifact, service: 'web' }) as unknown as ReleaseConfig;
const draft = (cwd: string) => ({ ordinal: '0', command: 'node server.mjs', cwd, env: {} });

describe('release file snapshots', () => {
  it('copies the planned files once, with modes, links node_modules, and leaves no temporary dir', () => {
    const app = appDir();
    const state = mkdtempSync(join(tmpdir(), 'symphony-snap-state-'));
    const digest = dirDigest(app);
    const dir = ensureSnapshot(state, cfgOf(digest), draft(app));
    expect(dir).toBe(artifactDir(state, digest));
    expect(readFileSync(join(dir, 'server.mjs'), 'utf8')).toBe('console.log("v1")\n');
    expect(readFileSync(join(dir, 'lib', 'a.js'), 'utf8')).toContain('a = 1');
    expect(statSync(join(dir, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(lstatSync(join(dir, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'node_modules'))).toBe(join(app, 'node_modules'));
    expect(dirDigest(dir)).toBe(digest);
    // The live files change; the release's copy does not.
    writeFileSync(join(app, 'server.mjs'), 'console.log("v2")\n');
    expect(ensureSnapshot(state, cfgOf(digest), draft(app))).toBe(dir);
    expect(readFileSync(join(dir, 'server.mjs'), 'utf8')).toBe('console.log("v1")\n');
    expect(readdirSync(join(state, 'artifacts'))).toEqual([digest]);
    expect(keptArtifacts(state)).toEqual([digest]);
  });

  it('refuses files that changed since the plan, names the way out, and keeps nothing', () => {
    const app = appDir();
    const state = mkdtempSync(join(tmpdir(), 'symphony-snap-state-'));
    const planned = dirDigest(app);
    writeFileSync(join(app, 'server.mjs'), 'console.log("edited after plan")\n');
    let err: unknown;
    try {
      ensureSnapshot(state, cfgOf(planned), draft(app));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArtifactChangedError);
    expect((err as Error).message).toContain(`planned ${planned.slice(0, 8)}`);
    expect((err as ArtifactChangedError).hint).toContain('symphony plan');
    expect(readdirSync(join(state, 'artifacts'))).toEqual([]);
  });

  it('links a node_modules hoisted above the app when it has none of its own', () => {
    const app = appDir();
    // lib/ has no node_modules of its own; the nearest one above it is the app's.
    const inner = join(app, 'lib');
    const state = mkdtempSync(join(tmpdir(), 'symphony-snap-state-'));
    const dir = ensureSnapshot(state, cfgOf(dirDigest(inner)), draft(inner));
    expect(readlinkSync(join(dir, 'node_modules'))).toBe(join(app, 'node_modules'));
  });

  it('does nothing for kinds that do not run from files', () => {
    const state = mkdtempSync(join(tmpdir(), 'symphony-snap-state-'));
    expect(ensureSnapshot(state, cfgOf('postgres', 'postgres'), draft('/x'))).toBe('/x');
    expect(existsSync(join(state, 'artifacts'))).toBe(false);
  });

  it('keeps the copies of running, live, warm and the newest releases of each service, and prunes the rest', () => {
    const state = mkdtempSync(join(tmpdir(), 'symphony-snap-state-'));
    const store = new StateStore(state);
    stores.push(store);
    const digests: string[] = [];
    const total = KEEP_RECENT_RELEASES + 3;
    for (let n = 0; n < total; n++) {
      const digest = (n.toString(16) + 'a'.repeat(64)).slice(0, 64);
      digests.push(digest);
      mkdirSync(artifactDir(state, digest), { recursive: true });
      store.putRelease({ id: `web-${n}`, env: 'prod', service: 'web', configHash: `h${n}`, config: { kind: 'app', artifact: digest }, status: n === 0 ? 'warm' : 'retired' });
      store.db.prepare(`UPDATE releases SET created_at = ? WHERE id = ?`).run(new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(), `web-${n}`);
    }
    // The oldest-but-one still has a running instance.
    store.putInstance({ id: 'web-1-0', env: 'prod', service: 'web', release: 'web-1', ordinal: '0', pid: 1, startTime: 1, port: null, status: 'running' });
    mkdirSync(join(state, 'artifacts', '.tmp-deadbeef-1-ab'), { recursive: true });
    const keep = snapshotsInUse(store);
    const removed = pruneSnapshots(state, keep);
    const newest = digests.slice(total - KEEP_RECENT_RELEASES);
    expect([...keep].sort()).toEqual([digests[0], digests[1], ...newest].sort());
    expect(removed.sort()).toEqual(digests.slice(2, total - KEEP_RECENT_RELEASES).sort());
    expect(readdirSync(join(state, 'artifacts')).sort()).toEqual([digests[0], digests[1], ...newest].sort());
  });
});
