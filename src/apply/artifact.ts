import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { SymphonyError } from '../errors.js';
import { IgnoreRules } from './ignore.js';

/** Names a release's digest (and its snapshot) leaves out, at any depth. */
export const DIGEST_SKIP: ReadonlySet<string> = new Set(['node_modules', '.git', '.symphony']);

/** A release's files are copied for each release; past either limit the plan refuses the directory. */
export const ARTIFACT_LIMITS = { bytes: 512 * 1024 * 1024, files: 100_000 };

/** An app directory too large to copy for every release (`dir: /`, a home directory, a data dir). */
export class ArtifactTooLargeError extends SymphonyError {
  override readonly code: string = 'artifact_too_large';
  constructor(readonly dir: string, readonly bytes: number, readonly files: number, where?: string) {
    super(
      `${where ? where + ': ' : ''}app directory ${dir} is too large to copy for each release: ${files >= ARTIFACT_LIMITS.files ? 'more than ' : 'at least '}${formatBytes(bytes)} in ${files.toLocaleString('en-US')} file${files === 1 ? '' : 's'} (the limit is ${formatBytes(ARTIFACT_LIMITS.bytes)} or ${ARTIFACT_LIMITS.files.toLocaleString('en-US')} files)`,
      `point dir: at the app's own directory, or leave out what it does not need to run with lines in ${join(dir, '.symphonyignore')} (gitignore syntax)`,
    );
  }
}

/** One entry of an app's files: what a release digests and copies. `modules` is a node_modules dir, linked not copied. */
export interface ArtifactEntry {
  rel: string;
  abs: string;
  kind: 'file' | 'dir' | 'link' | 'modules';
  st: Stats;
}

/**
 * The entries of an app's files, sorted, a directory before its contents.
 * Links are entries themselves and never followed (a loop or a link to `/`
 * is just a link); `.gitignore` and `.symphonyignore` lines leave paths out;
 * .git and state dirs are skipped; sockets, fifos and devices are not files.
 */
export function* artifactEntries(root: string): Generator<ArtifactEntry> {
  function* walk(abs: string, rel: string, rules: IgnoreRules): Generator<ArtifactEntry> {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch (err) {
      throw new SymphonyError(`cannot read ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, `make it readable, or leave it out with a line in ${join(root, '.symphonyignore')}`);
    }
    const here = rules.within(abs, rel);
    for (const name of names) {
      const path = join(abs, name);
      const sub = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path);
      if (name === 'node_modules' && st.isDirectory()) {
        yield { rel: sub, abs: path, kind: 'modules', st };
        continue;
      }
      if (DIGEST_SKIP.has(name) || here.ignores(sub, st.isDirectory())) continue;
      if (st.isSymbolicLink()) yield { rel: sub, abs: path, kind: 'link', st };
      else if (st.isDirectory()) {
        yield { rel: sub, abs: path, kind: 'dir', st };
        yield* walk(path, sub, here);
      } else if (st.isFile()) yield { rel: sub, abs: path, kind: 'file', st };
    }
  }
  yield* walk(root, '', IgnoreRules.none);
}

/**
 * What a link of the app's files points to in its release's copy: a relative
 * link that stays inside the tree as written, any other as an absolute path.
 */
export function linkTarget(root: string, abs: string): string {
  const target = readlinkSync(abs);
  const inside = !isAbsolute(target) && !relative(root, resolve(dirname(abs), target)).startsWith('..');
  return inside ? target : resolve(dirname(abs), target);
}

/** Refuse a directory past ARTIFACT_LIMITS before reading a byte of it. */
export function checkArtifactSize(root: string, where?: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of artifactEntries(root)) {
    if (e.kind !== 'file' && e.kind !== 'link') continue;
    files++;
    bytes += e.kind === 'file' ? e.st.size : 0;
    if (bytes > ARTIFACT_LIMITS.bytes || files >= ARTIFACT_LIMITS.files) throw new ArtifactTooLargeError(root, bytes, files, where);
  }
  return { bytes, files };
}

/**
 * Digest of an app's files (paths, modes and contents; links by where they
 * point), so that a change of code replaces the release and nothing else
 * does. `where` names the directory in errors (`services.api.dir`).
 */
export function dirDigest(root: string, where?: string): string {
  checkArtifactSize(root, where);
  const hash = createHash('sha256');
  for (const e of artifactEntries(root)) {
    if (e.kind === 'file') {
      hash.update(`${e.rel}\0${e.st.mode & 0o111 ? 'x' : '-'}\0`);
      hash.update(readFileSync(e.abs));
      hash.update('\0');
    } else if (e.kind === 'link') hash.update(`${e.rel}\0L\0${linkTarget(root, e.abs)}\0`);
  }
  return hash.digest('hex');
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}
