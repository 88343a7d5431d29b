import { groupUsage } from '../runtime/process/usage.js';

/** One reading of a set of instances, to be compared with the next. */
export interface CpuReading {
  at: number;
  seconds: Map<string, number>;
}

/** Read the CPU seconds of instances given as id -> process group id; instances with no process are left out. */
export function readCpu(instances: Map<string, number>, now = Date.now()): CpuReading {
  // The process runtime's one pass over /proc (utime + stime of every process in each group).
  const byGroup = groupUsage([...instances.values()]);
  const seconds = new Map<string, number>();
  for (const [id, pgid] of instances) {
    const u = byGroup.get(pgid);
    if (u) seconds.set(id, u.cpuSeconds);
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
