import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { dirDigest } from '../apply/artifact.js';
import { copyTree } from '../apply/snapshot.js';
import type { BuiltApps } from '../cli/planning.js';
import type { LoadedStack } from '../spec/index.js';
import type { PipelineStore } from './store.js';
import { runLogged, type StageIo } from './shell.js';

export const buildsDirOf = (stateDir: string): string => join(stateDir, 'pipeline', 'builds');

/** The nearest node_modules at or above `dir` without leaving `top` (a monorepo hoists them). */
function modulesWithin(dir: string, top: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return join(d, 'node_modules');
    if (d === top || relative(top, d).startsWith('..') || dirname(d) === d) return null;
  }
}

/**
 * Freeze an app's built files into `<state>/pipeline/builds/<digest>/`: the
 * releases of every environment are made from this copy, so a later stage
 * that writes into the commit's tree (tests, coverage) never changes what
 * ships. Dependencies are linked from the commit's tree, never from a
 * directory outside it (an empty node_modules stands in when it has none).
 */
function freeze(stateDir: string, appDir: string, treeDir: string, digest: string): string {
  const final = join(buildsDirOf(stateDir), digest);
  if (existsSync(final)) return final;
  mkdirSync(buildsDirOf(stateDir), { recursive: true, mode: 0o711 });
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  copyTree(appDir, tmp);
  if (!existsSync(join(tmp, 'node_modules'))) {
    const mods = modulesWithin(dirname(appDir), treeDir);
    if (mods) symlinkSync(mods, join(tmp, 'node_modules'));
    else mkdirSync(join(tmp, 'node_modules'));
  }
  renameSync(tmp, final);
  return final;
}

/**
 * Build every app service of the commit once: its `build:` command runs in
 * the commit's tree, then the app's files are digested and frozen. A second
 * run of the same commit reuses the recorded build (same digest, same files).
 */
export async function buildApps(io: StageIo, stack: LoadedStack, treeDir: string, commit: string, store: PipelineStore): Promise<{ built: BuiltApps; ran: string[] }> {
  const built: BuiltApps = {};
  const ran: string[] = [];
  for (const s of stack.services) {
    if (s.kind !== 'app') continue;
    const spec = s.spec as { dir?: string; build?: string };
    const appDir = resolve(stack.dir, spec.dir ?? '.');
    const recorded = store.build(commit, s.name);
    if (recorded && existsSync(join(buildsDirOf(io.stateDir), recorded))) {
      io.log(`${s.name}: built before for this commit, artifact ${recorded.slice(0, 12)}`);
      built[s.name] = { dir: join(buildsDirOf(io.stateDir), recorded), digest: recorded };
      continue;
    }
    if (spec.build) {
      io.log(`${s.name}: ${spec.build}`);
      const r = await runLogged(io, spec.build, appDir, 30 * 60_000);
      if (r.code !== 0) throw new BuildFailedError(s.name, spec.build, r.code, r.signal);
      ran.push(s.name);
    }
    const digest = dirDigest(appDir);
    built[s.name] = { dir: freeze(io.stateDir, appDir, treeDir, digest), digest };
    store.recordBuild(commit, s.name, digest);
    io.log(`${s.name}: artifact ${digest.slice(0, 12)}`);
  }
  return { built, ran };
}

export class BuildFailedError extends Error {
  constructor(service: string, command: string, code: number | null, signal: string | null) {
    super(`build of ${service} (${command}) ${code === null ? `was killed (${signal})` : `exited with ${code}`}`);
  }
}
