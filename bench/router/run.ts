import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterClient } from '../../src/router/client.js';
import { freePort } from '../../src/util/ports.js';
import { startHaproxy } from './haproxy.js';
import { runLoad, type LoadResult } from './load.js';
import { pacedLoad } from './paced.js';
import { median, spawnTs, waitPort, waitRouter } from './processes.js';

/**
 * Router bench: the same backend reached (a) directly, (b) through HAProxy 2.6,
 * (c) through Symphony's router with 1 and with 2 worker processes; same autocannon
 * load (this process; every proxy is its own process), same run, alternating order
 * each round. Medians of the rounds, ratios to HAProxy, CPU per request of each proxy;
 * latency at half of HAProxy's max rate, evenly paced (paced.ts: open loop, latency
 * from each request's due time) and as autocannon's overallRate sends it (each
 * second's quota in one burst at full speed, which measures a saturated proxy).
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

/** Evenly paced load at `rate` on every target, alternating order each round. */
async function alternatePaced(targets: Target[], rate: number): Promise<Map<string, Array<{ p50: number; p99: number; failures: number }>>> {
  const out = new Map<string, Array<{ p50: number; p99: number; failures: number }>>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length];
      const r = await pacedLoad({ port: t.port, connections: CONNECTIONS, rate, seconds: SECONDS });
      const at = (q: number): number => r.latencies[Math.min(r.latencies.length - 1, Math.floor(q * r.latencies.length))] ?? NaN;
      out.get(t.name)?.push({ p50: at(0.5), p99: at(0.99), failures: r.failures });
      process.stderr.write(`paced round ${round + 1} ${t.name.padEnd(14)} ${rate} req/s  p50 ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  failed ${r.failures}  load ${loadavg()[0].toFixed(1)}\n`);
    }
  }
  return out;
}

interface Summary {
  target: string;
  ratioToHaproxy: number;
  pacedAddedP50Ms: number;
}

/** The two targets, per router variant. */
function checksOf(summary: Summary[]): Array<{ target: string; check: string; measured: number; limit: number; met: boolean }> {
  return summary
    .filter((s) => s.target.startsWith('symphony'))
    .flatMap((s) => [
      { target: s.target, check: 'throughput x haproxy', measured: s.ratioToHaproxy, limit: 0.8, met: s.ratioToHaproxy >= 0.8 },
      { target: s.target, check: 'added p50 ms (paced, half of haproxy max)', measured: s.pacedAddedP50Ms, limit: 1, met: s.pacedAddedP50Ms <= 1 },
    ]);
}

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
    const paced = await alternatePaced(targets, halfRate);
    const directPacedP50 = median((paced.get('direct') ?? []).map((r) => r.p50));

    const haproxyRps = median((max.get('haproxy') ?? []).map((r) => r.rps));
    const directP50 = median((half.get('direct') ?? []).map((r) => r.p50));
    const summary = targets.map((t) => {
      const m = max.get(t.name) ?? [];
      const h = half.get(t.name) ?? [];
      const l = paced.get(t.name) ?? [];
      const pacedP50 = median(l.map((r) => r.p50));
      const rps = median(m.map((r) => r.rps));
      const p50 = median(h.map((r) => r.p50));
      return {
        target: t.name,
        maxRps: Math.round(rps),
        ratioToHaproxy: fixed(rps / haproxyRps, 3),
        proxyCpuUsPerRequest: fixed(median(m.map((r) => r.proxyCpuUs)), 1),
        backendCpuUsPerRequest: fixed(median(m.map((r) => r.backendCpuUs)), 1),
        burstP50Ms: fixed(p50, 3),
        burstP99Ms: fixed(median(h.map((r) => r.p99)), 3),
        burstAddedP50Ms: fixed(p50 - directP50, 3),
        pacedP50Ms: fixed(pacedP50, 3),
        pacedAddedP50Ms: fixed(pacedP50 - directPacedP50, 3),
        pacedP99Ms: fixed(median(l.map((r) => r.p99)), 3),
        failures: [...m, ...h, ...l].reduce((n, r) => n + r.failures, 0),
        rounds: { maxRps: m.map((r) => Math.round(r.rps)), proxyCpuUs: m.map((r) => fixed(r.proxyCpuUs, 1)), burstP50Ms: h.map((r) => fixed(r.p50, 3)), pacedP50Ms: l.map((r) => fixed(r.p50, 3)) },
      };
    });
    const haproxyCpu = summary.find((s) => s.target === 'haproxy')?.proxyCpuUsPerRequest ?? NaN;
    const out = {
      bench: 'router',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, loadAverage: { atStart: loadAtStart.map((x) => fixed(x, 2)), atEnd: loadavg().map((x) => fixed(x, 2)) } },
      load: {
        max: { tool: 'autocannon', connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS },
        burst: { tool: 'autocannon overallRate (each second\'s quota sent at once)', rate: halfRate },
        paced: { tool: 'bench/router/paced.ts (open loop, evenly spaced, latency from due time)', connections: CONNECTIONS, rate: halfRate },
      },
      targets: summary,
      checks: checksOf(summary),
    };
    console.log(`\nrouter bench: ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians; latency at ${halfRate} req/s (half of HAProxy's max), paced evenly and in autocannon's bursts`);
    console.log(`load average at start ${loadAtStart.map((x) => x.toFixed(1)).join(' ')}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')} (${cpus().length} cpus)\n`);
    console.log('target           max req/s  x haproxy  cpu us/req  x haproxy cpu  paced p50  paced added p50  paced p99  burst p50  burst added p50  failures');
    for (const s of summary) {
      console.log(
        `${s.target.padEnd(16)} ${String(s.maxRps).padStart(9)} ${s.ratioToHaproxy.toFixed(3).padStart(10)} ${s.proxyCpuUsPerRequest.toFixed(1).padStart(11)} ` +
          `${(s.proxyCpuUsPerRequest / haproxyCpu).toFixed(2).padStart(14)} ${s.pacedP50Ms.toFixed(3).padStart(10)} ${s.pacedAddedP50Ms.toFixed(3).padStart(16)} ${s.pacedP99Ms.toFixed(3).padStart(10)} ` +
          `${s.burstP50Ms.toFixed(3).padStart(10)} ${s.burstAddedP50Ms.toFixed(3).padStart(16)} ${String(s.failures).padStart(9)}`,
      );
    }
    console.log('\ntargets: throughput >= 0.8 x haproxy; added p50 <= 1 ms at half of haproxy\'s max rate (paced)');
    for (const c of out.checks) console.log(`  ${c.target}: ${c.check} ${c.measured} (target ${c.limit}) ${c.met ? 'met' : 'MISSED'}`);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/router.json', JSON.stringify(out, null, 2) + '\n');
    console.log('wrote bench/results/router.json');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
