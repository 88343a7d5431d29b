import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/util/ports.js';
import { cleanup, symphony } from '../../test/helpers/cli.js';
import { LoadGenerator, totals, type LoadShape, type PhaseCounts } from '../deploy-under-load/load-client.js';
import { Pm2Cluster } from '../deploy-under-load/peers.js';
import { formatTable, machineInfo, note, ROOT, writeResult } from '../lib/report.js';
import { median, round } from '../lib/stats.js';
import { CHAOS_VERSION, writeChaosApp } from './app.js';
import { pm2Scenario, pollUntil, symphonyScenarios, type Scenario } from './scenarios.js';

/**
 * Chaos bench (issue 16): under paced keep-alive and new-connection load (plus 2-second
 * requests), kill -9 one part at a time and count what it costs: (a) the router leader,
 * (b) a router follower, (c) the agent, (d) one app replica, (e) postgres, beside pm2
 * cluster mode respawning a killed worker of the same app in the same run. Per kill: failed
 * requests, the time from the kill until the last failed request (every request after it
 * succeeded), and the time until a new process did the killed one's job.
 * Run: npm run bench:chaos. Knobs: CHAOS_RATE (1000 req/s), CHAOS_ROUNDS (3).
 */
export const COMMAND = 'npm run bench:chaos';
const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const SHAPE: LoadShape = { rate: num('CHAOS_RATE', 1000), newConnectionShare: 0.3, keepAliveLoops: 32, newConnectionLoops: 16, slowInFlight: 2 };
const ROUNDS = num('CHAOS_ROUNDS', 3);
const REPLICAS = 2;
/** Load before the kill, and after the killed part was replaced (failures after that still count). */
const LEAD_MS = 1500;
const TAIL_MS = 3000;
const REPLACE_TIMEOUT_MS = 60_000;

interface Kill {
  scenario: string;
  peer: string;
  round: number;
  sent: number;
  failed: number;
  rps: number;
  /** Kill until the last failed request was sent: every request sent later succeeded (0: none failed, or only requests sent before the kill). */
  untilAllSucceedMs: number;
  /** Kill until a new process did the killed one's job; null when it never did. */
  replacedMs: number | null;
  failureKinds: Record<string, number>;
}

let load: LoadGenerator | null = null;
let pm2: Pm2Cluster | null = null;
let stateDir: string | null = null;

function stack(port: number): string {
  return `name: chaos
services:
  db:
    postgres: { version: "15" }
    volume: chaos-db
  api:
    run: node server.mjs
    dir: ./api
    replicas: ${REPLICAS}
    env: { DATABASE_URL: "\${db.url}" }
    health: { http: /healthz, interval: 200ms }
routes:
  - { listen: ${port}, to: api }
`;
}

async function kill(s: Scenario, round: number): Promise<Kill> {
  if ((await pollUntil(s.settled, REPLACE_TIMEOUT_MS, 200)) === null) throw new Error(`${s.peer} ${s.name}: the stack did not settle before the kill`);
  await load!.start(`${s.peer} ${s.name} #${round}`, s.port, CHAOS_VERSION);
  await sleep(LEAD_MS);
  const victim = await s.kill();
  // kill() signals last: the kill happened now.
  const killedAt = Date.now();
  const replacedMs = await pollUntil(() => s.replaced(victim), REPLACE_TIMEOUT_MS);
  await sleep(TAIL_MS);
  const counts: PhaseCounts = await load!.stop();
  const t = totals(counts);
  const k: Kill = {
    scenario: s.name, peer: s.peer, round, sent: t.sent, failed: t.failed, rps: Math.round(t.rps),
    untilAllSucceedMs: counts.lastFailedSentAt > 0 ? Math.max(0, counts.lastFailedSentAt - killedAt) : 0,
    replacedMs,
    failureKinds: counts.failureKinds,
  };
  note(`${s.peer} ${s.name} #${round}: ${k.failed} failed of ${k.sent} (${k.rps} req/s); all succeed again ${k.untilAllSucceedMs} ms after the kill; replaced after ${k.replacedMs ?? 'never'} ms ${JSON.stringify(k.failureKinds)}`);
  return k;
}

function summarize(kills: Kill[]): { scenario: string; peer: string; rounds: number; failedMedian: number; failedMax: number; sentMedian: number; untilAllSucceedMsMedian: number; replacedMsMedian: number | null }[] {
  const keys = [...new Set(kills.map((k) => `${k.peer}\u0000${k.scenario}`))];
  return keys.map((key) => {
    const mine = kills.filter((k) => `${k.peer}\u0000${k.scenario}` === key);
    const replaced = mine.map((k) => k.replacedMs).filter((x): x is number => x !== null);
    return {
      scenario: mine[0].scenario, peer: mine[0].peer, rounds: mine.length,
      failedMedian: median(mine.map((k) => k.failed)), failedMax: Math.max(...mine.map((k) => k.failed)), sentMedian: median(mine.map((k) => k.sent)),
      untilAllSucceedMsMedian: median(mine.map((k) => k.untilAllSucceedMs)),
      replacedMsMedian: replaced.length === mine.length ? median(replaced) : null,
    };
  });
}

async function teardown(): Promise<void> {
  load?.close();
  load = null;
  await pm2?.kill().catch(() => undefined);
  pm2 = null;
  if (stateDir) await cleanup(stateDir).catch(() => undefined);
  stateDir = null;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('the CLI is not built: run `npm run build` first (npm run bench:chaos does)');
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'symphony-chaos-'));
  chmodSync(dir, 0o711); // the postgres account traverses to its volume
  stateDir = join(dir, '.symphony');
  const kills: Kill[] = [];
  try {
    const [routePort, pm2Port] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'symphony.yaml'), stack(routePort));
    writeChaosApp(join(dir, 'api'));
    note('applying the stack (postgres, 2 app replicas, a route)');
    const applied = await symphony(['apply', '--yes'], { cwd: dir });
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr.slice(-2000)}`);
    const url = (await symphony(['output', 'db.url', '--reveal', '--yes'], { cwd: dir })).stdout.trim();
    pm2 = new Pm2Cluster(dir, pm2Port, REPLICAS, (d) => writeChaosApp(d), { DATABASE_URL: url });
    await pm2.start(CHAOS_VERSION);
    load = await LoadGenerator.spawn(SHAPE);
    const scenarios = [...symphonyScenarios(dir, routePort, REPLICAS), pm2Scenario(pm2, pm2Port, REPLICAS)];
    for (let round = 1; round <= ROUNDS; round++) for (const s of scenarios) kills.push(await kill(s, round));
  } finally {
    await teardown();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = summarize(kills);
  const pm2Row = rows.find((r) => r.peer === 'pm2');
  const replica = rows.find((r) => r.scenario === 'one app replica');
  process.stdout.write(
    formatTable(
      ['kill -9 of', 'peer', 'rounds', 'failed (median)', 'failed (max)', 'sent (median)', 'until all succeed, ms', 'replaced after, ms'],
      rows.map((r) => [r.scenario, r.peer, r.rounds, r.failedMedian, r.failedMax, r.sentMedian, r.untilAllSucceedMsMedian, r.replacedMsMedian]),
      0,
    ) + '\n',
  );
  const ratios = replica && pm2Row ? { replicaFailedVsPm2: pm2Row.failedMedian > 0 ? round(replica.failedMedian / pm2Row.failedMedian) : null, replicaReplacedVsPm2: replica.replacedMsMedian && pm2Row.replacedMsMedian ? round(replica.replacedMsMedian / pm2Row.replacedMsMedian) : null } : null;
  if (ratios) process.stdout.write(`\none app replica vs pm2 worker: failed ×${ratios.replicaFailedVsPm2 ?? '-'}, replaced after ×${ratios.replicaReplacedVsPm2 ?? '-'}\n`);
  const path = writeResult('chaos', COMMAND, machine, { shape: SHAPE, rounds: ROUNDS, summary: rows, ratios, kills });
  note(`wrote ${path}`);
}

process.once('SIGINT', () => {
  note('interrupted: stopping the load, pm2 and the stack');
  void teardown().finally(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  process.stderr.write(`chaos bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await teardown();
  process.exit(1);
});
