import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeError } from '../../errors.js';
import type { InstanceHandle, InstanceSpec, InstanceUsage, ObservedInstance, RuntimeDriver, StopOptions } from '../types.js';
import { STAMP, instanceEnv, launchCommand } from './launch.js';
import { groupMembers, isDead, listPids, readEnviron, readStat } from './proc.js';
import { groupUsage } from './usage.js';

export interface ProcessDriverOptions {
  /** State directory; stamped on every process so `list()` finds this scope's instances only. */
  scope: string;
  /** Where `logFile(id)` looks for instances this driver has not seen start (default `<scope>/logs`). */
  logDir?: string;
}

const POLL_MS = 50;

/**
 * Runs instances as plain processes: `/bin/sh -c <command>` in a new session
 * (so it outlives the agent and can be stopped as a group), a minimal stamped
 * environment, stdout+stderr appended to `<logDir>/<id>.log`.
 */
export class ProcessDriver implements RuntimeDriver {
  readonly name = 'process';
  readonly scope: string;
  private readonly defaultLogDir: string;
  private readonly logDirs = new Map<string, string>();

  constructor(opts: ProcessDriverOptions) {
    this.scope = resolve(opts.scope);
    this.defaultLogDir = resolve(opts.logDir ?? join(this.scope, 'logs'));
  }

  async start(spec: InstanceSpec): Promise<InstanceHandle> {
    if (!isDirectory(spec.cwd)) {
      throw new RuntimeError(
        `cannot start instance ${spec.id}: working directory ${spec.cwd} does not exist`,
        `check \`dir:\` of service ${spec.service} in the stack file, then run symphony apply`,
      );
    }
    mkdirSync(spec.logDir, { recursive: true });
    const file = join(spec.logDir, `${spec.id}.log`);
    const fd = openSync(file, 'a', 0o600);
    let pid: number | undefined;
    try {
      const child = spawn('/bin/sh', ['-c', launchCommand(spec.command)], {
        cwd: spec.cwd,
        env: instanceEnv(this.scope, spec),
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      child.on('error', () => undefined);
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(fd);
    }
    if (pid === undefined) {
      throw new RuntimeError(
        `cannot start instance ${spec.id}: the system refused to create a process for /bin/sh`,
        'check the process limit (ulimit -u) and free memory, then run symphony apply again',
      );
    }
    const stat = readStat(pid);
    if (!stat) {
      throw new RuntimeError(`instance ${spec.id} (pid ${pid}) exited immediately after start`, `look at its log: ${file}`);
    }
    this.logDirs.set(spec.id, resolve(spec.logDir));
    return { id: spec.id, pid, startTime: stat.startTime };
  }

  isAlive(handle: InstanceHandle): boolean {
    const stat = readStat(handle.pid);
    return stat !== null && stat.startTime === handle.startTime && !isDead(stat);
  }

  async stop(handle: InstanceHandle, opts: StopOptions): Promise<void> {
    if (!this.ownsGroup(handle)) return;
    this.signalGroup(handle, opts.signal ?? 'SIGTERM');
    const deadline = Date.now() + Math.max(0, opts.graceMs);
    while (Date.now() < deadline) {
      if (!this.groupRuns(handle)) return;
      await sleep(POLL_MS);
    }
    if (!this.ownsGroup(handle)) return;
    this.signalGroup(handle, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (this.groupRuns(handle)) {
      if (Date.now() > killDeadline) {
        throw new RuntimeError(
          `instance ${handle.id} (process group ${handle.pid}) survived SIGKILL for 5 s`,
          `inspect it with: ps -o pid,stat,cmd -g ${handle.pid}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  async list(): Promise<ObservedInstance[]> {
    const found: ObservedInstance[] = [];
    for (const pid of listPids()) {
      if (pid === process.pid) continue;
      const stat = readStat(pid);
      if (!stat || stat.pgrp !== pid || isDead(stat)) continue;
      const env = readEnviron(pid);
      if (!env || env[STAMP.scope] !== this.scope || !env[STAMP.instance]) continue;
      const id = env[STAMP.instance];
      const observed: ObservedInstance = { id, pid, startTime: stat.startTime, service: env[STAMP.service] ?? '', release: env[STAMP.release] ?? '' };
      const port = Number(env.PORT);
      if (env.PORT && Number.isInteger(port) && port > 0) observed.port = port;
      found.push(observed);
      this.rememberLogDir(id, pid);
    }
    return found;
  }

  logFile(id: string): string {
    return join(this.logDirs.get(id) ?? this.defaultLogDir, `${id}.log`);
  }

  /** CPU and memory of each running instance's process group, from one pass over /proc. */
  async usage(handles: InstanceHandle[]): Promise<Map<string, InstanceUsage>> {
    const live = handles.filter((h) => this.isAlive(h));
    const byGroup = groupUsage(live.map((h) => h.pid));
    const out = new Map<string, InstanceUsage>();
    for (const h of live) {
      const u = byGroup.get(h.pid);
      if (u) out.set(h.id, u);
    }
    return out;
  }

  /**
   * True while the handle's process group still holds processes of this
   * instance. When the leader itself is gone, the remaining members must carry
   * the instance's stamp, so a reused pid is never signalled.
   */
  private ownsGroup(handle: InstanceHandle): boolean {
    const leader = readStat(handle.pid);
    if (leader) {
      if (leader.startTime !== handle.startTime) return false;
      if (!isDead(leader)) return true;
    }
    return groupMembers(handle.pid).some((m) => {
      const env = readEnviron(m.pid);
      return env !== null && env[STAMP.scope] === this.scope && env[STAMP.instance] === handle.id;
    });
  }

  /**
   * True while any live process remains in the handle's group. Cheap while the
   * leader runs; scans /proc only once the leader is gone (zombies do not count,
   * and they linger where nothing reaps orphans).
   */
  private groupRuns(handle: InstanceHandle): boolean {
    try {
      process.kill(-handle.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
    const leader = readStat(handle.pid);
    if (leader && leader.startTime === handle.startTime && !isDead(leader)) return true;
    return groupMembers(handle.pid).length > 0;
  }

  private signalGroup(handle: InstanceHandle, signal: NodeJS.Signals): void {
    try {
      process.kill(-handle.pid, signal);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return;
      throw new RuntimeError(
        `cannot send ${signal} to instance ${handle.id} (process group ${handle.pid}): ${code ?? String(err)}`,
        'run the agent as the user that started the instance',
      );
    }
  }

  private rememberLogDir(id: string, pid: number): void {
    if (this.logDirs.has(id)) return;
    try {
      const target = readlinkSync(`/proc/${pid}/fd/1`);
      if (target.endsWith(`/${id}.log`)) this.logDirs.set(id, dirname(target));
    } catch {
      /* not ours to read, or stdout is not a file */
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
