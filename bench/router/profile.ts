import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterClient } from '../../src/router/client.js';
import { freePort } from '../../src/util/ports.js';
import { spawnTs, waitPort, waitRouter } from './processes.js';

/**
 * Where the router spends its CPU: runs it under `node --cpu-prof` behind the bench
 * backend, loads it with autocannon (this process; 2 s of warm-up first), and prints the top
 * functions by self time during the measured load.
 * Run: node --import tsx bench/router/profile.ts [seconds] [workers]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time by function and by file, in percent of the samples taken between `fromUs` and
 * `toUs` (CLOCK_MONOTONIC microseconds, as process.hrtime gives them): the load, not the start-up.
 */
export function topFunctions(profile: CpuProfile, limit = 30, fromUs = 0, toUs = Infinity): { functions: [string, number][]; files: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (!node || at < fromUs || at > toUs) continue;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/work\/main\//, '');
    const name = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + dt);
    const f = short || functionName;
    file.set(f, (file.get(f) ?? 0) + dt);
  }
  const top = (m: Map<string, number>): [string, number][] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k, v]) => [k, Math.round((1000 * v) / total) / 10]);
  return { functions: top(fn), files: top(file) };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const workers = process.argv[3] ?? '1';
  const dir = await mkdtemp(join(tmpdir(), 'symphony-router-prof-'));
  const backendPort = await freePort();
  const routerPort = await freePort();
  const backend = spawnTs(['bench/router/backend.ts', String(backendPort)]);
  const router = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`, '--import', 'tsx', 'src/router/main.ts', join(dir, 'router')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SYMPHONY_ROUTER_WORKERS: workers },
  });
  try {
    await waitPort(backendPort);
    const client = new RouterClient(join(dir, 'router', 'router.sock'));
    await waitRouter(client);
    await client.setRoute({ id: 'bench', listen: routerPort, backends: [{ release: 'r1', weight: 100, upstreams: [{ id: 'app1', host: '127.0.0.1', port: backendPort }] }] });
    await autocannon({ url: `http://127.0.0.1:${routerPort}/`, connections: 50, duration: 2 });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const result = await autocannon({ url: `http://127.0.0.1:${routerPort}/`, connections: 50, duration: seconds });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    console.log(`${Math.round(result.requests.total / result.duration)} req/s through the router, ${result.errors + result.non2xx} failures`);
    router.kill('SIGTERM');
    await new Promise((r) => router.once('exit', r));
    for (const name of await readdir(join(dir, 'prof'))) {
      const profile = JSON.parse(await readFile(join(dir, 'prof', name), 'utf8')) as CpuProfile;
      const { functions, files } = topFunctions(profile, 40, fromUs, toUs);
      console.log(`\n${name}: self time by file (%)`);
      for (const [k, v] of files.slice(0, 15)) console.log(`${String(v).padStart(6)}  ${k}`);
      console.log(`\nself time by function (%)`);
      for (const [k, v] of functions) console.log(`${String(v).padStart(6)}  ${k}`);
    }
  } finally {
    router.kill('SIGKILL');
    backend.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
