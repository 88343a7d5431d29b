import { readFileSync, readdirSync } from 'node:fs';

/** The fields of /proc/<pid>/stat that identify and classify a process. */
export interface ProcStat {
  pid: number;
  /** One letter: R running, S sleeping, Z zombie, X dead, T stopped… */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks since boot at which the process started (field 22). */
  startTime: number;
}

/**
 * Parse the text of /proc/<pid>/stat. The command name (field 2) sits in
 * parentheses and may itself hold spaces and parentheses, so fields are
 * counted from the last `)`.
 */
export function parseStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text.slice(close + 2).split(' ');
  if (rest.length < 20) return null;
  return {
    pid,
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTime: Number(rest[19]),
  };
}

/** Stat of a process, or null when it no longer exists. */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** True for a process that has exited but not been reaped yet (or is being torn down). */
export function isDead(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X' || stat.state === 'x';
}

/** Every pid in /proc right now. */
export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/**
 * The initial environment of a process as a map, or null when it is gone or
 * not ours to read (other users' processes).
 */
export function readEnviron(pid: number): Record<string, string> | null {
  let raw: Buffer;
  try {
    raw = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  const env: Record<string, string> = {};
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && !isDead(stat)) members.push(stat);
  }
  return members;
}
