import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SymphonyError } from '../errors.js';
import type { ReleaseConfig } from '../plan/types.js';
import type { InstanceDraft } from '../kinds/types.js';
import type { StateStore } from '../state/store.js';
import { artifactEntries, dirDigest, linkTarget } from './artifact.js';

/**
 * Per-release copies of an app's files. A release of an app is its files'
 * digest plus its config; the instances of that release run from
 * `<state>/artifacts/<digest>/`, a copy taken when the release first starts,
 * so that a restart, a warm release or a rollback runs the code it was
 * released with, not whatever is on disk today. What the digest skips
 * (node_modules) is linked to the live directory, not copied.
 */
export class ArtifactChangedError extends SymphonyError {
  override readonly code: string = 'artifact_changed';
  constructor(service: string, expected: string, found: string) {
    super(
      `the files of ${service} changed since the plan (planned ${expected.slice(0, 8)}, on disk now ${found.slice(0, 8)})`,
      'make a new plan: symphony plan, then symphony apply',
    );
  }
}

const DIGEST = /^[0-9a-f]{64}$/;

export const artifactsDir = (stateDir: string): string => join(stateDir, 'artifacts');
export const artifactDir = (stateDir: string, digest: string): string => join(artifactsDir(stateDir), digest);

/** Whether a release runs from a snapshot of its files (apps with a files digest). */
export function hasSnapshot(cfg: Pick<ReleaseConfig, 'kind' | 'artifact'>): boolean {
  return cfg.kind === 'app' && DIGEST.test(cfg.artifact);
}

/** Whether the snapshot of a release's files is still kept. */
export function snapshotKept(stateDir: string, cfg: Pick<ReleaseConfig, 'kind' | 'artifact'>): boolean {
  return hasSnapshot(cfg) && existsSync(artifactDir(stateDir, cfg.artifact));
}

/** Digests whose snapshot is kept. */
export function keptArtifacts(stateDir: string): string[] {
  const dir = artifactsDir(stateDir);
  return existsSync(dir) ? readdirSync(dir).filter((n) => DIGEST.test(n)) : [];
}

/** The directory an instance of this release runs in: inside the release's snapshot when it has one. */
export function runDirOf(stateDir: string, cfg: ReleaseConfig, draft: InstanceDraft): string {
  if (!hasSnapshot(cfg)) return draft.cwd;
  return artifactDir(stateDir, cfg.artifact);
}

/**
 * Make (once) the snapshot of a release's files and return its directory.
 * The copy is checked against the planned digest before it is published, so
 * a release never runs files other than the ones that were planned.
 */
export function ensureSnapshot(stateDir: string, cfg: ReleaseConfig, draft: InstanceDraft): string {
  if (!hasSnapshot(cfg)) return draft.cwd;
  const final = artifactDir(stateDir, cfg.artifact);
  if (existsSync(final)) return final;
  mkdirSync(artifactsDir(stateDir), { recursive: true, mode: 0o700 });
  const tmp = join(artifactsDir(stateDir), `.tmp-${cfg.artifact.slice(0, 8)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    copyTree(draft.cwd, tmp);
    linkHoistedModules(draft.cwd, tmp);
    const found = dirDigest(tmp);
    if (found !== cfg.artifact) throw new ArtifactChangedError(cfg.service, cfg.artifact, found);
    try {
      renameSync(tmp, final);
    } catch (err) {
      if (!existsSync(final)) throw err;
    }
    return final;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Dependencies hoisted to a parent directory (a monorepo's node_modules) are
 * found from the copy through a link to the nearest one above the app.
 */
function linkHoistedModules(from: string, to: string): void {
  if (existsSync(join(from, 'node_modules'))) return;
  for (let dir = dirname(resolve(from)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return symlinkSync(join(dir, 'node_modules'), join(to, 'node_modules'));
    if (dirname(dir) === dir) return;
  }
}

/**
 * Copy an app's files as a release snapshot holds them: node_modules linked,
 * links copied as links, what the digest leaves out (.git, state dirs,
 * .gitignore and .symphonyignore matches) left out.
 */
export function copyTree(from: string, to: string): void {
  mkdirSync(to, { mode: statSync(from).mode & 0o7777 });
  for (const e of artifactEntries(from)) {
    const dst = join(to, e.rel);
    if (e.kind === 'modules') symlinkSync(resolve(e.abs), dst);
    else if (e.kind === 'link') symlinkSync(linkTarget(from, e.abs), dst);
    else if (e.kind === 'dir') mkdirSync(dst, { mode: e.st.mode & 0o7777 });
    else {
      copyFileSync(e.abs, dst);
      chmodSync(dst, e.st.mode & 0o7777);
    }
  }
}

/**
 * Remove snapshots no kept release needs. `keep` holds the digests of the
 * releases that may still run (live, warm, running instances, recent history).
 * Returns the digests removed.
 */
export function pruneSnapshots(stateDir: string, keep: Set<string>): string[] {
  const dir = artifactsDir(stateDir);
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (DIGEST.test(name) && keep.has(name)) continue;
    if (!DIGEST.test(name) && !name.startsWith('.tmp-')) continue;
    if (name.startsWith('.tmp-') && name.includes(`-${process.pid}-`)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    if (DIGEST.test(name)) removed.push(name);
  }
  return removed;
}

/** How many of a service's newest releases keep their files for a cold rollback. */
export const KEEP_RECENT_RELEASES = 5;

interface KeepRow {
  env: string;
  service: string;
  artifact: string | null;
  status: string;
  running: number;
}

/** Digests still needed: releases with instances not stopped, live or warm ones, and each service's newest few. */
export function snapshotsInUse(store: StateStore): Set<string> {
  const rows = store.db
    .prepare(
      `SELECT r.env, r.service, json_extract(r.config, '$.artifact') AS artifact, r.status,
              EXISTS (SELECT 1 FROM instances i WHERE i.release = r.id AND i.status != 'stopped') AS running
         FROM releases r WHERE json_extract(r.config, '$.kind') = 'app'
        ORDER BY r.created_at DESC, r.rowid DESC`,
    )
    .all() as KeepRow[];
  const keep = new Set<string>();
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (!r.artifact) continue;
    const key = `${r.env}\0${r.service}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (r.running || r.status === 'live' || r.status === 'warm' || r.status === 'pending' || n <= KEEP_RECENT_RELEASES) keep.add(r.artifact);
  }
  return keep;
}
