import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { inheritableExecArgv } from '../agent/paths.js';
import { quantile, steadyP95 } from './verdict.js';

export interface LoadSpec {
  url: string;
  rate: number;
  durationMs: number;
  connections: number;
}

export interface LoadResult {
  sent: number;
  completed: number;
  failures: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The p95 the gate judges (`steadyP95`): median of per-window p95s after the warm-up window. */
  steadyP95: number;
  /** Windows that figure is the median of; 0 when the load was too short and it is the plain p95. */
  windows: number;
}

/**
 * Open-loop HTTP load: request k is due at start + k/rate whatever happened
 * to the others, on at most `connections` keep-alive sockets; latency counts
 * from the due time to the end of the response, so time spent queued behind
 * a slow response is measured (no coordinated omission). A failure is a
 * socket error, a timeout or a status >= 400.
 */
export async function openLoopLoad(o: LoadSpec): Promise<LoadResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const samples: Array<[number, number]> = [];
  let failures = 0;
  let sent = 0;
  let done = 0;
  const total = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
  const start = performance.now() + 5;
  const fire = (due: number): void => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, agent, timeout: 10_000 }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) failures++;
        else samples.push([due - start, performance.now() - due]);
        done++;
      });
      res.on('error', () => (failures++, done++));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => (failures++, done++));
    req.end();
  };
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate) + 1);
      for (; sent < due; sent++) fire(start + (sent * 1000) / o.rate);
      if (sent >= total) (clearInterval(tick), resolve());
    }, 1);
  });
  const deadline = performance.now() + 15_000;
  while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const latencies = samples.map((x) => x[1]).sort((a, b) => a - b);
  const steady = steadyP95(samples, o.rate);
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    sent,
    completed: latencies.length,
    failures: failures + (total - done),
    rps: r2(latencies.length / elapsed),
    p50: r2(quantile(latencies, 0.5)),
    p95: r2(quantile(latencies, 0.95)),
    p99: r2(quantile(latencies, 0.99)),
    max: r2(latencies[latencies.length - 1] ?? 0),
    steadyP95: r2(steady.p95),
    windows: steady.windows,
  };
}

const LOAD_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './load-main.ts' : './load-main.js', import.meta.url));

/**
 * Run the load in a process of its own (the agent runs without the
 * optimizing compiler and must not share its event loop with a load).
 */
export function loadInChild(o: LoadSpec, onSpawn: (pid: number) => void, signal: AbortSignal): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const tsx = LOAD_MAIN.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...inheritableExecArgv(), ...tsx, LOAD_MAIN, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const kill = (): void => void (child.pid && process.kill(-child.pid, 'SIGKILL'));
    signal.addEventListener('abort', kill, { once: true });
    if (child.pid) onSpawn(child.pid);
    child.on('error', reject);
    child.on('close', (code) => {
      signal.removeEventListener('abort', kill);
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}: ${err.trim()}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}
