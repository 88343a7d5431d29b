import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SymphonyError } from '../errors.js';
import { run } from '../util/exec.js';
import type { CommitInfo } from './types.js';

export class GitError extends SymphonyError {
  override readonly code: string = 'git_failed';
}

async function git(cwd: string, args: string[]): Promise<string> {
  const r = await run('git', args, { cwd, timeoutMs: 60_000 });
  if (r.code !== 0) throw new GitError(`git ${args.join(' ')} failed in ${cwd}: ${(r.stderr || r.stdout).trim()}`, 'check the repository and the revision: git -C <repo> log -1 <rev>');
  return r.stdout;
}

/** The repository that holds a stack file, and the file's path inside it. */
export async function repoOf(stackFile: string): Promise<{ repo: string; stackPath: string }> {
  const dir = dirname(resolve(stackFile));
  const r = await run('git', ['rev-parse', '--show-toplevel'], { cwd: dir });
  if (r.code !== 0) throw new GitError(`${dir} is not in a git repository: a pipeline runs committed code`, `make it one: git -C ${dir} init && git -C ${dir} add -A && git -C ${dir} commit -m first`);
  const repo = r.stdout.trim();
  return { repo, stackPath: relative(repo, resolve(stackFile)) };
}

/** The commit a revision names, with its author and subject. */
export async function resolveCommit(repo: string, ref: string): Promise<CommitInfo> {
  const r = await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repo });
  if (r.code !== 0) throw new GitError(`${ref} names no commit in ${repo}`, `list commits with: git -C ${repo} log --oneline`);
  const sha = r.stdout.trim();
  const [authorName, authorEmail, subject] = (await git(repo, ['show', '-s', '--format=%an%x00%ae%x00%s', sha])).replace(/\n$/, '').split('\0');
  return { sha, ref, authorName, authorEmail, subject };
}

/** Does the stack file exist in that commit? */
export async function fileInCommit(repo: string, sha: string, path: string): Promise<boolean> {
  return (await run('git', ['cat-file', '-e', `${sha}:${path}`], { cwd: repo })).code === 0;
}

/**
 * The committed tree of `sha` in `dest` (git archive: never the working
 * directory, so an uncommitted edit is never built, tested or shipped).
 * Written to a temp dir and renamed, so a tree found at `dest` is whole.
 */
export async function exportTree(repo: string, sha: string, dest: string): Promise<void> {
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitError(`not a commit id: ${sha}`);
  if (existsSync(dest)) return;
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o711 });
  const r = await run('/bin/sh', ['-c', `git -C "$REPO" archive --format=tar "$SHA" | tar -x -C "$DEST"`], { env: { ...process.env, REPO: repo, SHA: sha, DEST: tmp }, timeoutMs: 300_000 });
  if (r.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new GitError(`could not export ${sha.slice(0, 12)} from ${repo}: ${r.stderr.trim()}`);
  }
  renameSync(tmp, dest);
}

/** Newest commit of a branch (for `pipeline watch`). */
export async function headOf(repo: string, ref: string): Promise<string> {
  return (await resolveCommit(repo, ref)).sha;
}

export const treeDirOf = (stateDir: string, sha: string): string => join(stateDir, 'pipeline', 'commits', sha);
