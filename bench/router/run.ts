import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterClient } from '../../src/router/client.js';
import { freePort } from '../../src/util/ports.js';
import { startHaproxy } from './haproxy.js';

/**
 * Router bench: the same backend reached (a) directly, (b) through HAProxy,
 * (c) through Symphony's router; same autocannon load, same run, alternating.
 * Run: node --import tsx bench/router/run.ts   (ROUTER_BENCH_ROUNDS, ROUTER_BENCH_SECONDS to change)
 */
const ROUNDS = Number(process.env.ROUTER_BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.ROUTER_BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

interface Target {
  name: 'direct' | 'haproxy' | 'symphony';
  port: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function waitPort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + 10_000;
    const attempt = (): void => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve()));
      s.once('error', () => (Date.now() > until ? reject(new Error(`nothing listens on ${port}`)) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

function spawnTs(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** One autocannon run; per-response latencies (ms, float) are kept from the tracker for sub-ms percentiles. */
async function load(port: number, overallRate?: number): Promise<{ rps: number; p50: number; p99: number; failures: number }> {
  const samples: number[] = [];
  const tracker = autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS, overallRate });
  tracker.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => samples.push(ms));
  const result = await tracker;
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { rps: result.requests.total / (result.duration || SECONDS), p50: at(0.5), p99: at(0.99), failures: result.errors + result.non2xx + result.timeouts };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'symphony-router-bench-'));
  const children: ChildProcess[] = [];
  try {
    const backendPort = await freePort();
    const haproxyPort = await freePort();
    const routerPort = await freePort();
    children.push(spawnTs(['bench/router/backend.ts', String(backendPort)]));
    children.push(await startHaproxy(dir, haproxyPort, backendPort));
    children.push(spawnTs(['src/router/main.ts', join(dir, 'router')]));
    await Promise.all([waitPort(backendPort), waitPort(haproxyPort)]);
    const client = new RouterClient(join(dir, 'router', 'router.sock'));
    for (let i = 0; ; i++) {
      try {
        await client.ping();
        break;
      } catch (err) {
        if (i > 200) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await client.setRoute({ id: 'bench', listen: routerPort, backends: [{ release: 'r1', weight: 100, upstreams: [{ id: 'app1', host: '127.0.0.1', port: backendPort }] }] });
    const targets: Target[] = [
      { name: 'direct', port: backendPort },
      { name: 'haproxy', port: haproxyPort },
      { name: 'symphony', port: routerPort },
    ];
    for (const t of targets) await load(t.port).catch(() => undefined);

    const max: Record<string, number[]> = { direct: [], haproxy: [], symphony: [] };
    const failures: Record<string, number> = { direct: 0, haproxy: 0, symphony: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        const r = await load(t.port);
        max[t.name].push(r.rps);
        failures[t.name] += r.failures;
        process.stderr.write(`max  round ${round + 1} ${t.name.padEnd(8)} ${r.rps.toFixed(0)} req/s\n`);
      }
    }
    const halfRate = Math.round(median(max.haproxy) / 2);
    const p50: Record<string, number[]> = { direct: [], haproxy: [], symphony: [] };
    const p99: Record<string, number[]> = { direct: [], haproxy: [], symphony: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        const r = await load(t.port, halfRate);
        p50[t.name].push(r.p50);
        p99[t.name].push(r.p99);
        failures[t.name] += r.failures;
        process.stderr.write(`half round ${round + 1} ${t.name.padEnd(8)} p50 ${r.p50.toFixed(3)} ms p99 ${r.p99.toFixed(3)} ms\n`);
      }
    }
    const summary = Object.fromEntries(
      targets.map((t) => [t.name, { maxRps: Math.round(median(max[t.name])), p50Ms: median(p50[t.name]), p99Ms: median(p99[t.name]), failures: failures[t.name], rounds: { maxRps: max[t.name].map(Math.round), p50Ms: p50[t.name], p99Ms: p99[t.name] } }]),
    );
    const ratio = median(max.symphony) / median(max.haproxy);
    const addedP50 = median(p50.symphony) - median(p50.direct);
    const addedP50Haproxy = median(p50.haproxy) - median(p50.direct);
    const out = {
      bench: 'router',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      load: { tool: 'autocannon', connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, halfRate },
      targets: summary,
      throughputRatioSymphonyToHaproxy: Number(ratio.toFixed(3)),
      addedP50MsSymphony: Number(addedP50.toFixed(3)),
      addedP50MsHaproxy: Number(addedP50Haproxy.toFixed(3)),
      targetsMet: { throughput: ratio >= 0.8, addedP50: addedP50 <= 1 },
    };
    console.log(`\nrouter bench: ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds, medians; latency at ${halfRate} req/s (half of HAProxy's max)\n`);
    console.log('target     max req/s   p50 ms   p99 ms   failures');
    for (const t of targets) {
      const s = summary[t.name];
      console.log(`${t.name.padEnd(10)} ${String(s.maxRps).padStart(9)} ${s.p50Ms.toFixed(3).padStart(8)} ${s.p99Ms.toFixed(3).padStart(8)} ${String(s.failures).padStart(10)}`);
    }
    console.log(`\nthroughput symphony/haproxy: ${ratio.toFixed(3)} (target >= 0.8)`);
    console.log(`added p50 vs direct: symphony ${addedP50.toFixed(3)} ms (target <= 1 ms), haproxy ${addedP50Haproxy.toFixed(3)} ms`);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/router.json', JSON.stringify(out, null, 2) + '\n');
    console.log('wrote bench/results/router.json');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
