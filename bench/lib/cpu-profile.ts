import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that a summary needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Time (ms) attributed to one place of the code: a package, a source folder or a V8 bucket. */
export interface ProfileEntry {
  where: string;
  /** Samples whose top frame is here. */
  selfMs: number;
  /** Samples with this place anywhere on the stack (each sample counted once per place). */
  totalMs: number;
}

export interface ProfileSummary {
  profiles: number;
  /** Mean sampled time per profile, ms. */
  meanMs: number;
  /** Mean per profile, sorted by totalMs, largest first. */
  entries: ProfileEntry[];
  /** Hottest functions by mean self time per profile. */
  functions: { fn: string; selfMs: number }[];
}

/**
 * Where a frame belongs: `pkg:<name>` for node_modules, `src:<folder>` for
 * this repo's dist/ or src/, `node:<module>` for Node internals, or a V8
 * bucket such as `(garbage collector)` and `(program)` (compiling, parsing).
 */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  const own = /\/(?:dist|src)\/([^/]+)(?:\/|\.js|\.ts)/.exec(url);
  if (own) return `src:${own[1].replace(/\.(js|ts)$/, '')}`;
  const internal = /^node:(?:internal\/)?([^/]+(?:\/[^/]+)?)/.exec(url);
  if (internal) return `node:${internal[1]}`;
  return url.replace(/^file:\/\//, '');
}

function addProfile(p: CpuProfile, self: Map<string, number>, total: Map<string, number>, fns: Map<string, number>): number {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let sum = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    sum += ms;
    const top = byId.get(p.samples[i]);
    if (!top) continue;
    const here = placeOf(top.callFrame.url, top.callFrame.functionName);
    self.set(here, (self.get(here) ?? 0) + ms);
    const fn = `${top.callFrame.functionName || '(anonymous)'} ${here}:${top.callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = top.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const place = placeOf(f.url, f.functionName);
      if (place === '(root)' || seen.has(place)) continue;
      seen.add(place);
      total.set(place, (total.get(place) ?? 0) + ms);
    }
  }
  return sum;
}

/** Summarize every `.cpuprofile` in a directory (one per process run), as means per run. */
export function summarizeProfiles(dir: string, topFunctions = 15): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}; was the command run with --cpu-prof --cpu-prof-dir=${dir}?`);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const fns = new Map<string, number>();
  let sum = 0;
  for (const f of files) sum += addProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, self, total, fns);
  const n = files.length;
  const places = new Set([...self.keys(), ...total.keys()]);
  return {
    profiles: n,
    meanMs: sum / n,
    entries: [...places].map((where) => ({ where, selfMs: (self.get(where) ?? 0) / n, totalMs: (total.get(where) ?? 0) / n })).sort((a, b) => b.totalMs - a.totalMs),
    functions: [...fns.entries()]
      .map(([fn, ms]) => ({ fn, selfMs: ms / n }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topFunctions),
  };
}
