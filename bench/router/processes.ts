import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { RouterClient } from '../../src/router/client.js';

/** Start a TypeScript entry point as its own Node process. */
export function spawnTs(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (10 s at most). */
export function waitPort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + 10_000;
    const attempt = (): void => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('error', () => (Date.now() > until ? reject(new Error(`nothing listens on 127.0.0.1:${port} after 10 s`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

/** Resolves once the router answers on its control socket (20 s at most). */
export async function waitRouter(client: RouterClient): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await client.ping();
      return;
    } catch (err) {
      if (i > 400) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Children of a process (cluster workers), from /proc. */
async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) used so far by a process and its children that are still alive. */
export async function cpuSeconds(pid: number): Promise<number> {
  let total = 0;
  for (const p of [pid, ...(await childPids(pid))]) {
    try {
      const stat = await readFile(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the process exited between the listing and the read
    }
  }
  return total;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
