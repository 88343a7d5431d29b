import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { InstanceUsage } from '../types.js';
import { listPids } from './proc.js';

/** CPU time and memory of one process, from /proc/<pid>/stat and statm. */
export interface ProcUsage {
  pgrp: number;
  /** utime + stime + cutime + cstime, in clock ticks: its own CPU and that of the children it reaped. */
  ticks: number;
  residentPages: number;
}

/** Parse /proc/<pid>/stat (fields after the command name) and the resident pages of /proc/<pid>/statm; null for a zombie or bad text. */
export function parseUsage(stat: string, statm: string): ProcUsage | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const f = stat.slice(close + 2).split(' ');
  if (f.length < 20 || f[0] === 'Z' || f[0] === 'X') return null;
  // f[0] is field 3 (state): utime, stime, cutime, cstime are fields 14..17.
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  const residentPages = Number(statm.split(' ')[1]);
  if (!Number.isFinite(ticks) || !Number.isFinite(residentPages)) return null;
  return { pgrp: Number(f[2]), ticks, residentPages };
}

/** Sum the processes of each wanted process group. A group with no live process is absent. */
export function sumByGroup(procs: ProcUsage[], groups: Set<number>, tickHz: number, pageBytes: number): Map<number, InstanceUsage> {
  const ticks = new Map<number, { ticks: number; pages: number; processes: number }>();
  for (const p of procs) {
    if (!groups.has(p.pgrp)) continue;
    const into = ticks.get(p.pgrp) ?? { ticks: 0, pages: 0, processes: 0 };
    into.ticks += p.ticks;
    into.pages += p.residentPages;
    into.processes++;
    ticks.set(p.pgrp, into);
  }
  const out = new Map<number, InstanceUsage>();
  for (const [g, t] of ticks) out.set(g, { cpuSeconds: t.ticks / tickHz, residentBytes: t.pages * pageBytes, processes: t.processes });
  return out;
}

let system: { tickHz: number; pageBytes: number } | null = null;

/** Clock ticks per second and page size of this machine (getconf, asked once; Linux defaults otherwise). */
function systemUnits(): { tickHz: number; pageBytes: number } {
  if (system) return system;
  const ask = (name: string, fallback: number): number => {
    try {
      const n = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
      return Number.isInteger(n) && n > 0 ? n : fallback;
    } catch {
      return fallback;
    }
  };
  system = { tickHz: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) };
  return system;
}

/**
 * CPU seconds and resident memory of each process group in `groups`, in one pass over
 * /proc (one stat and one statm read per process on the machine, however many groups).
 */
export function groupUsage(groups: number[]): Map<number, InstanceUsage> {
  const wanted = new Set(groups);
  if (wanted.size === 0) return new Map();
  const procs: ProcUsage[] = [];
  for (const pid of listPids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The process group is field 5: skip statm for processes of other groups.
      const close = stat.lastIndexOf(')');
      if (!wanted.has(Number(stat.slice(close + 2).split(' ', 3)[2]))) continue;
      const u = parseUsage(stat, readFileSync(`/proc/${pid}/statm`, 'utf8'));
      if (u) procs.push(u);
    } catch {
      // gone meanwhile
    }
  }
  const { tickHz, pageBytes } = systemUnits();
  return sumByGroup(procs, wanted, tickHz, pageBytes);
}
