import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvStatus } from '../../src/agent/status.js';
import { freePort } from '../../src/util/ports.js';
import { cleanup, json, stackDir, symphony } from '../../test/helpers/cli.js';
import { formatTable, machineInfo, note, writeResult } from '../lib/report.js';
import { median, percentile, round } from '../lib/stats.js';

/**
 * Autoscale bench (issue 13). One command:
 *
 *     npm run bench:autoscale
 *
 * An app whose /work burns ~20 ms of CPU, behind the router, with
 * `autoscale: { min: 1, max: 3, cpu: { up: 50%, down: 10% }, periods: 2,
 * interval: 2s, cooldown: { down: 6s } }`. AS_ROUNDS (3) rounds of AS_RATE
 * (40) req/s open loop for AS_LOAD_S (20) s, then quiet until it is back at
 * min. Measured per round: seconds from the load's start until a second
 * replica answers (target: periods × interval + one scale operation), from
 * the load's end until it is back at one replica, the most replicas seen,
 * failed requests and p99. The peer, in the same run: the same load on the
 * same app with a fixed `replicas: 1` (no autoscale).
 * Prints a table; writes bench/results/autoscale.json.
 */
const COMMAND = 'npm run bench:autoscale';
const RATE = Number(process.env.AS_RATE ?? 40);
const LOAD_S = Number(process.env.AS_LOAD_S ?? 20);
const ROUNDS = Number(process.env.AS_ROUNDS ?? 3);
const SERVER = `import { createServer } from 'node:http';
const id = process.env.SYMPHONY_INSTANCE;
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  const end = performance.now() + 20; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1);
  res.end(id + ' ' + Math.round(x % 10) + '\\n');
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); setTimeout(() => process.exit(0), 3000).unref(); });
`;
const stack = (port: number, autoscale: boolean): string => `name: as${autoscale ? 'on' : 'off'}
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 1
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, warm: 0s }
${autoscale ? '    autoscale: { min: 1, max: 3, cpu: { up: 50%, down: 10% }, periods: 2, interval: 2s, cooldown: { up: 0s, down: 6s } }\n' : ''}routes:
  - { listen: ${port}, to: web }
`;

interface LoadResult { sent: number; failed: number; p99: number; firstSecondAt: number | null }

/** Open loop at RATE for LOAD_S; notes when a second instance first answers. */
async function load(port: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const lat: number[] = [];
  const seen = new Set<string>();
  let sent = 0, failed = 0, done = 0;
  let firstSecondAt: number | null = null;
  const t0 = performance.now();
  const total = RATE * LOAD_S;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      for (; sent < due; sent++) {
        const at = t0 + (sent * 1000) / RATE;
        const req = request({ host: '127.0.0.1', port, path: '/work', agent, timeout: 10_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => {
            done++;
            if (res.statusCode !== 200) return void failed++;
            lat.push(performance.now() - at);
            seen.add(body.split(' ')[0]);
            if (seen.size >= 2 && firstSecondAt === null) firstSecondAt = (performance.now() - t0) / 1000;
          });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => (failed++, done++));
        req.end();
      }
      if (sent >= total) (clearInterval(tick), resolve());
    }, 2);
  });
  for (let i = 0; i < 400 && done < sent; i++) await sleep(25);
  agent.destroy();
  return { sent, failed: failed + (sent - done), p99: round(percentile(lat, 0.99), 1), firstSecondAt: firstSecondAt === null ? null : round(firstSecondAt, 1) };
}

async function setUp(autoscale: boolean) {
  const port = await freePort();
  const dir = stackDir({ 'symphony.yaml': stack(port, autoscale), 'web/server.mjs': SERVER });
  const state = join(dir, 'state');
  const cli = (...args: string[]) => symphony([...args, '--state-dir', state], { cwd: dir });
  const r = await cli('apply', '--yes');
  if (r.code !== 0) throw new Error(`apply failed: ${r.stderr}`);
  const replicas = async (): Promise<number> => json<EnvStatus>(await cli('status', '--json')).services[0].instances.filter((i) => i.status === 'running').length;
  return { port, state, replicas };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const on = await setUp(true);
  const off = await setUp(false);
  try {
    const rounds: Array<{ up: number | null; down: number | null; maxReplicas: number; scaled: LoadResult; fixed: LoadResult }> = [];
    for (let i = 1; i <= ROUNDS; i++) {
      let maxReplicas = 1;
      let watching = true;
      const watch = (async () => { while (watching) { maxReplicas = Math.max(maxReplicas, await on.replicas()); await sleep(500); } })();
      const scaled = await load(on.port);
      const end = performance.now();
      let down: number | null = null;
      for (let t = 0; t < 120 && down === null; t++) {
        if ((await on.replicas()) === 1) down = round((performance.now() - end) / 1000, 1);
        else await sleep(500);
      }
      watching = false;
      await watch;
      const fixed = await load(off.port);
      rounds.push({ up: scaled.firstSecondAt, down, maxReplicas, scaled, fixed });
      note(`round ${i}: second replica answering after ${scaled.firstSecondAt} s, back to 1 after ${down} s, max ${maxReplicas}; scaled ${JSON.stringify(scaled)}; fixed ${JSON.stringify(fixed)}`);
      await sleep(2000);
    }
    const med = (xs: Array<number | null>): number | null => (xs.every((x) => x !== null) ? median(xs as number[]) : null);
    const results = {
      rate: RATE, loadS: LOAD_S, config: { min: 1, max: 3, up: 0.5, down: 0.1, periods: 2, intervalS: 2, cooldownDownS: 6 },
      rounds,
      upS: med(rounds.map((r) => r.up)), downS: med(rounds.map((r) => r.down)), maxReplicas: Math.max(...rounds.map((r) => r.maxReplicas)),
      failed: { scaled: rounds.reduce((a, r) => a + r.scaled.failed, 0), fixed: rounds.reduce((a, r) => a + r.fixed.failed, 0) },
      p99: { scaled: median(rounds.map((r) => r.scaled.p99)), fixed: median(rounds.map((r) => r.fixed.p99)) },
    };
    console.log(formatTable(['autoscale, median of ' + ROUNDS, 'value'], [
      ['load start -> second replica answering (s), target periods × interval + 1 operation = 4 s + op', results.upS],
      ['load end -> back to min (s), cooldown 6 s + 2 periods', results.downS],
      ['most replicas seen (max 3)', results.maxReplicas],
      ['failed requests, autoscaled', results.failed.scaled],
      ['failed requests, fixed 1 replica (peer)', results.failed.fixed],
      ['p99 ms, autoscaled', results.p99.scaled],
      ['p99 ms, fixed 1 replica (peer)', results.p99.fixed],
    ], 1));
    note(`wrote ${writeResult('autoscale', COMMAND, machine, results)}`);
  } finally {
    await cleanup(on.state);
    await cleanup(off.state);
  }
}

await main();
