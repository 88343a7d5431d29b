import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupError } from '../errors.js';
import type { Backup, BackupInfo, BackupType, RestoreTarget } from '../types.js';

/** What a snapshot engine does with one file: write it (a consistent image), and fill a directory from it. */
export interface SnapshotFormat {
  readonly engine: 'etcd-snapshot' | 'volume-archive';
  /** File name of the image inside a backup's directory. */
  readonly file: string;
  /** Write the image to `path`; returns a note for the manifest (how consistency was had). */
  write(path: string): Promise<string>;
  /** Fill the empty directory `dir` from the image at `path`. */
  read(path: string, dir: string): Promise<void>;
}

/** `manifest.json` beside each image: what `backup list` shows, and the digest a restore checks first. */
export interface SnapshotManifest extends BackupInfo {
  engine: SnapshotFormat['engine'];
  file: string;
  sha256: string;
  note: string;
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `20261204-175012F`: sortable, second-resolution, like pgBackRest's labels (a suffix if taken). */
function labelOf(now: Date, taken: Set<string>): string {
  const base = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15) + 'F';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * A repository of whole-image backups (etcd snapshots, volume archives): one
 * directory per backup holding the image and a manifest with its SHA-256,
 * written to `<id>.part` and renamed, so a half-written backup is never listed.
 * Every backup is `full`; there is no WAL, so a restore reaches the moments
 * backups were taken.
 */
export class SnapshotRepo implements Backup {
  constructor(
    private readonly service: string,
    private readonly repoPath: string,
    private readonly format: SnapshotFormat,
  ) {}

  get engine(): SnapshotFormat['engine'] {
    return this.format.engine;
  }

  async init(): Promise<void> {
    mkdirSync(this.repoPath, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.repoPath)) if (name.endsWith('.part')) rmSync(join(this.repoPath, name), { recursive: true, force: true });
  }

  async take(type: BackupType): Promise<BackupInfo> {
    if (type !== 'full') throw new BackupError(this.service, `${this.format.engine} backups are whole images: there is no ${type} backup of them`, 'use --type full (the default)');
    // The repository is ready: callers run init() first (takeBackup does).
    const start = new Date();
    const id = labelOf(start, new Set(readdirSync(this.repoPath)));
    const part = join(this.repoPath, `${id}.part`);
    mkdirSync(part, { mode: 0o700 });
    try {
      const image = join(part, this.format.file);
      const note = await this.format.write(image);
      const bytes = statSync(image).size;
      const manifest: SnapshotManifest = {
        id, type: 'full', start: start.toISOString(), end: new Date().toISOString(), bytes, repoBytes: bytes, prior: null, wal: null,
        engine: this.format.engine, file: this.format.file, sha256: await sha256Of(image), note,
      };
      writeFileSync(join(part, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
      renameSync(part, join(this.repoPath, id));
      return manifest;
    } catch (err) {
      rmSync(part, { recursive: true, force: true });
      throw err;
    }
  }

  manifests(): SnapshotManifest[] {
    if (!existsSync(this.repoPath)) return [];
    return readdirSync(this.repoPath)
      .filter((n) => !n.endsWith('.part') && existsSync(join(this.repoPath, n, 'manifest.json')))
      .map((n) => JSON.parse(readFileSync(join(this.repoPath, n, 'manifest.json'), 'utf8')) as SnapshotManifest)
      .sort((a, b) => a.end.localeCompare(b.end));
  }

  async list(): Promise<BackupInfo[]> {
    return this.manifests();
  }

  async walRange(): Promise<null> {
    return null;
  }

  async expire(ids: string[]): Promise<void> {
    for (const id of ids) rmSync(join(this.repoPath, id), { recursive: true, force: true });
  }

  /** The backup a target names: by id, or the newest one that ended by the time. */
  pick(target: RestoreTarget): SnapshotManifest {
    const all = this.manifests();
    const m = 'backup' in target ? all.find((b) => b.id === target.backup) : all.filter((b) => Date.parse(b.end) <= Date.parse(target.time)).pop();
    if (!m) throw new BackupError(this.service, 'backup' in target ? `has no backup ${target.backup}` : `has no backup that ended by ${target.time}`, `list them: symphony backup list ${this.service}`);
    return m;
  }

  /** Check the image against its manifest's SHA-256; returns the image path. */
  async checked(m: SnapshotManifest): Promise<string> {
    const image = join(this.repoPath, m.id, m.file);
    if (!existsSync(image)) throw new BackupError(this.service, `backup ${m.id} has lost its image (${image})`, `restore another backup: symphony backup list ${this.service}`);
    const digest = await sha256Of(image);
    if (digest !== m.sha256) throw new BackupError(this.service, `backup ${m.id} is damaged: its SHA-256 is ${digest.slice(0, 12)}…, the manifest says ${m.sha256.slice(0, 12)}…`, `restore another backup: symphony backup list ${this.service}`);
    return image;
  }

  async restoreInto(dir: string, target: RestoreTarget): Promise<void> {
    const image = await this.checked(this.pick(target));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await this.format.read(image, dir);
  }

  /** Nothing to flush: an image is whole when `take` returns. */
  async flush(): Promise<void> {}
}
