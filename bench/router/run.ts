import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterClient } from '../../src/router/client.js';
import { freePort } from '../../src/util/ports.js';
import { startHaproxy } from './haproxy.js';
import { runLoad, type LoadResult } from './load.js';
import { median, spawnTs, waitPort, waitRouter } from './processes.js';

/**
 * Router bench: the same backend reached (a) directly, (b) through HAProxy 2.6,
 * (c) through Symphony's router with 1 and with 2 worker processes; same autocannon
 * load (this process; every proxy is its own process), same run, alternating order
 * each round. Medians of the rounds, ratios to HAProxy, CPU per request of each proxy;
 * latency at half of HAProxy's max rate, and at half of the slowest router's max rate
 * (where no target is saturated).
 *
 *   node --import tsx bench/router/run.ts
 *
 * ROUTER_BENCH_ROUNDS (5), ROUTER_BENCH_SECONDS (5), ROUTER_BENCH_WORKERS ("1,2"): the
 * router variants; ROUTER_BENCH_BEFORE=<checkout>: also bench the router of another
 * checkout (e.g. a git worktree of an older commit) in the same run.
 */
const ROUNDS = Number(process.env.ROUTER_BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.ROUTER_BENCH_SECONDS ?? 5);
const WORKERS = (process.env.ROUTER_BENCH_WORKERS ?? '1,2').split(',').map(Number);
const BEFORE = process.env.ROUTER_BENCH_BEFORE;
const CONNECTIONS = 50;

interface Target {
  name: string;
  port: number;
  pid?: number;
}

async function startRouterTarget(name: string, main: string, dir: string, workers: number, backendPort: number, children: ChildProcess[]): Promise<Target> {
  const child = spawnTs([main, dir], { ...process.env, SYMPHONY_ROUTER_WORKERS: String(workers) });
  children.push(child);
  const client = new RouterClient(join(dir, 'router.sock'));
  await waitRouter(client);
  const port = await freePort();
  await client.setRoute({ id: 'bench', listen: port, backends: [{ release: 'r1', weight: 100, upstreams: [{ id: 'app1', host: '127.0.0.1', port: backendPort }] }] });
  return { name, port, pid: child.pid };
}

async function alternate(targets: Target[], backendPid: number, overallRate: number | undefined, label: string): Promise<Map<string, LoadResult[]>> {
  const out = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length];
      const r = await runLoad({ port: t.port, connections: CONNECTIONS, seconds: SECONDS, overallRate, proxyPid: t.pid, backendPid });
      out.get(t.name)?.push(r);
      process.stderr.write(
        `${label} round ${round + 1} ${t.name.padEnd(14)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(3)} ms  ` +
          `proxy ${r.proxyCpuUs.toFixed(0)} us/req  load ${loadavg()[0].toFixed(1)}\n`,
      );
    }
  }
  return out;
}

const fixed = (x: number, digits: number): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'symphony-router-bench-'));
  const children: ChildProcess[] = [];
  const loadAtStart = loadavg();
  try {
    const backendPort = await freePort();
    const haproxyPort = await freePort();
    const backend = spawnTs(['bench/router/backend.ts', String(backendPort)]);
    children.push(backend);
    const haproxy = await startHaproxy(dir, haproxyPort, backendPort);
    children.push(haproxy);
    await Promise.all([waitPort(backendPort), waitPort(haproxyPort)]);
    const targets: Target[] = [
      { name: 'direct', port: backendPort },
      { name: 'haproxy', port: haproxyPort, pid: haproxy.pid },
    ];
    for (const w of WORKERS) targets.push(await startRouterTarget(`symphony-${w}w`, 'src/router/main.ts', join(dir, `router-${w}w`), w, backendPort, children));
    if (BEFORE) targets.push(await startRouterTarget('symphony-before', join(BEFORE, 'src/router/main.ts'), join(dir, 'router-before'), 1, backendPort, children));
    const backendPid = backend.pid ?? 0;
    for (const t of targets) await runLoad({ port: t.port, connections: CONNECTIONS, seconds: 2, proxyPid: t.pid, backendPid });

    const max = await alternate(targets, backendPid, undefined, 'max ');
    const halfRate = Math.round(median((max.get('haproxy') ?? []).map((r) => r.rps)) / 2);
    const half = await alternate(targets, backendPid, halfRate, 'half');
    const routerRps = Math.min(...targets.filter((t) => t.name.startsWith('symphony')).map((t) => median((max.get(t.name) ?? []).map((r) => r.rps))));
    const lowRate = Math.round(routerRps / 2);
    const low = await alternate(targets, backendPid, lowRate, 'low ');
    const directLowP50 = median((low.get('direct') ?? []).map((r) => r.p50));

    const haproxyRps = median((max.get('haproxy') ?? []).map((r) => r.rps));
    const directP50 = median((half.get('direct') ?? []).map((r) => r.p50));
    const summary = targets.map((t) => {
      const m = max.get(t.name) ?? [];
      const h = half.get(t.name) ?? [];
      const l = low.get(t.name) ?? [];
      const lowP50 = median(l.map((r) => r.p50));
      const rps = median(m.map((r) => r.rps));
      const p50 = median(h.map((r) => r.p50));
      return {
        target: t.name,
        maxRps: Math.round(rps),
        ratioToHaproxy: fixed(rps / haproxyRps, 3),
        proxyCpuUsPerRequest: fixed(median(m.map((r) => r.proxyCpuUs)), 1),
        backendCpuUsPerRequest: fixed(median(m.map((r) => r.backendCpuUs)), 1),
        p50Ms: fixed(p50, 3),
        p99Ms: fixed(median(h.map((r) => r.p99)), 3),
        addedP50Ms: fixed(p50 - directP50, 3),
        lowRateP50Ms: fixed(lowP50, 3),
        lowRateAddedP50Ms: fixed(lowP50 - directLowP50, 3),
        failures: [...m, ...h, ...l].reduce((n, r) => n + r.failures, 0),
        rounds: { maxRps: m.map((r) => Math.round(r.rps)), proxyCpuUs: m.map((r) => fixed(r.proxyCpuUs, 1)), p50Ms: h.map((r) => fixed(r.p50, 3)), lowRateP50Ms: l.map((r) => fixed(r.p50, 3)) },
      };
    });
    const haproxyCpu = summary.find((s) => s.target === 'haproxy')?.proxyCpuUsPerRequest ?? NaN;
    const out = {
      bench: 'router',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, loadAverage: { atStart: loadAtStart.map((x) => fixed(x, 2)), atEnd: loadavg().map((x) => fixed(x, 2)) } },
      load: { tool: 'autocannon', connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, halfRate, lowRate },
      targets: summary,
    };
    console.log(`\nrouter bench: ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians; latency at ${halfRate} req/s (half of HAProxy's max) and at ${lowRate} req/s (half of the slowest router's max)`);
    console.log(`load average at start ${loadAtStart.map((x) => x.toFixed(1)).join(' ')}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (${cpus().length} cpus)\n`);
    console.log('target           max req/s  x haproxy  cpu us/req  x haproxy cpu   p50 ms  added p50   p99 ms  low-rate added p50  failures');
    for (const s of summary) {
      console.log(
        `${s.target.padEnd(16)} ${String(s.maxRps).padStart(9)} ${s.ratioToHaproxy.toFixed(3).padStart(10)} ${s.proxyCpuUsPerRequest.toFixed(1).padStart(11)} ` +
          `${(s.proxyCpuUsPerRequest / haproxyCpu).toFixed(2).padStart(14)} ${s.p50Ms.toFixed(3).padStart(8)} ${s.addedP50Ms.toFixed(3).padStart(10)} ${s.p99Ms.toFixed(3).padStart(8)} ${s.lowRateAddedP50Ms.toFixed(3).padStart(19)} ${String(s.failures).padStart(9)}`,
      );
    }
    console.log('\ntargets: throughput >= 0.8 x haproxy; added p50 <= 1 ms at half of haproxy\'s max rate');
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/router.json', JSON.stringify(out, null, 2) + '\n');
    console.log('wrote bench/results/router.json');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
