import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where a stage writes what it does, and how it learns it is cancelled. */
export interface StageIo {
  stateDir: string;
  /** The stage's log file (stdout and stderr of its commands, and its own lines). */
  logFile: string;
  log(line: string): void;
  signal: AbortSignal;
  /** A command was started (its process group id), so recovery can stop it if the agent dies. */
  onSpawn(pid: number): void;
  /** Added to the environment of the stage's commands. */
  env: Record<string, string>;
}

export function fileLog(logFile: string): (line: string) => void {
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
  return (line) => appendFileSync(logFile, `[symphony ${new Date().toISOString()}] ${line}\n`, { mode: 0o600 });
}

/**
 * Run a shell command line for a stage, in its own process group, output
 * appended to the stage's log. Killed (the whole group) on timeout or cancel.
 */
export function runLogged(io: StageIo, command: string, cwd: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const out = openSync(io.logFile, 'a', 0o600);
    const child = spawn('/bin/sh', ['-c', command], { cwd, env: { ...process.env, ...io.env }, stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    let timedOut = false;
    const kill = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => ((timedOut = true), kill()), timeoutMs);
    io.signal.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => (clearTimeout(timer), reject(err)));
    if (child.pid) io.onSpawn(child.pid);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      io.signal.removeEventListener('abort', kill);
      resolve({ code, signal, timedOut });
    });
  });
}
