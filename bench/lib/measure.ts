import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Wall time of one call, in milliseconds (monotonic clock). */
export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/**
 * Run several cases side by side: each round runs every case once, in an order
 * rotated by one per round, so drift in machine load hits all cases alike.
 * `warmup` rounds run first and are not kept. Returns the samples (ms) per case.
 * A case may throw to abort the bench; `check` sees each result to reject a
 * run that did not do what it should (a failed command is not a fast one).
 */
export async function interleave<T>(
  cases: Record<string, () => Promise<T>>,
  opts: { rounds: number; warmup?: number; check?: (name: string, value: T) => void; onSample?: (name: string, round: number, ms: number) => void },
): Promise<Record<string, number[]>> {
  const names = Object.keys(cases);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const warmup = opts.warmup ?? 1;
  for (let round = -warmup; round < opts.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(round, 0)) % names.length];
      const { ms, value } = await timeIt(cases[name]);
      opts.check?.(name, value);
      if (round < 0) continue;
      out[name].push(ms);
      opts.onSample?.(name, round, ms);
    }
  }
  return out;
}

/** Memory of a live process from /proc/<pid>/status, in MiB. */
export interface ProcessMemory {
  pid: number;
  /** Resident set size now (VmRSS). */
  rssMiB: number;
  /** Peak resident set size since start (VmHWM). */
  peakRssMiB: number;
  /** Anonymous part of the RSS (heap, stacks): what the process itself allocated. */
  anonMiB: number;
}

function statusField(text: string, field: string, pid: number): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field} line (is it a kernel thread or a zombie?)`);
  return Number(m[1]) / 1024;
}

/** Read VmRSS, VmHWM and RssAnon of a process; throws when the process is gone. */
export function processMemory(pid: number): ProcessMemory {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    throw new Error(`process ${pid} is not running: /proc/${pid}/status cannot be read`);
  }
  return { pid, rssMiB: statusField(text, 'VmRSS', pid), peakRssMiB: statusField(text, 'VmHWM', pid), anonMiB: statusField(text, 'RssAnon', pid) };
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on every Linux this runs on
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Sample a process's RSS every `everyMs` for `forMs`; returns the samples in MiB. */
export async function watchRss(pid: number, forMs: number, everyMs = 1000): Promise<number[]> {
  const out: number[] = [];
  const until = performance.now() + forMs;
  for (;;) {
    out.push(processMemory(pid).rssMiB);
    const left = until - performance.now();
    if (left <= 0) return out;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, left)));
  }
}
