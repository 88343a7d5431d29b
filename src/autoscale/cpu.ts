import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const HZ = 100;

/** Fields of /proc/<pid>/stat after the command name, which may hold spaces and parentheses. */
function statFields(pid: string): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by each process group in `groups` (an instance is
 * started as its own group, so its children count too), read from
 * /proc/<pid>/stat of every process: utime + stime. Children that already
 * exited are not counted, as in `top`. Groups with no process are left out.
 */
export function groupCpuSeconds(groups: Iterable<number>): Map<number, number> {
  const want = new Set(groups);
  const out = new Map<number, number>();
  if (want.size === 0) return out;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (!f) continue;
    // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
    const pgrp = Number(f[2]);
    if (!want.has(pgrp)) continue;
    out.set(pgrp, (out.get(pgrp) ?? 0) + (Number(f[11]) + Number(f[12])) / HZ);
  }
  return out;
}

/** One reading of a set of instances, to be compared with the next. */
export interface CpuReading {
  at: number;
  seconds: Map<string, number>;
}

/** Read the CPU seconds of instances given as id -> process group id. */
export function readCpu(instances: Map<string, number>, now = Date.now()): CpuReading {
  const byGroup = groupCpuSeconds(instances.values());
  const seconds = new Map<string, number>();
  for (const [id, pgid] of instances) {
    const s = byGroup.get(pgid);
    if (s !== undefined) seconds.set(id, s);
  }
  return { at: now, seconds };
}

/**
 * Average CPU of the instances present in both readings, as a share of one
 * core each (0.84 = 84%), or null when none is (all replaced in between).
 */
export function averageUsage(prev: CpuReading, next: CpuReading): number | null {
  const dt = (next.at - prev.at) / 1000;
  if (dt <= 0) return null;
  const shares: number[] = [];
  for (const [id, s] of next.seconds) {
    const before = prev.seconds.get(id);
    if (before !== undefined) shares.push(Math.max(0, s - before) / dt);
  }
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}
