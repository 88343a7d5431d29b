import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/util/ports.js';
import { cleanup, symphony } from '../../test/helpers/cli.js';
import { formatTable, machineInfo, note, ROOT, writeResult } from '../lib/report.js';
import { round, rounded, summarize } from '../lib/stats.js';
import { get, startDirect, stopDirect, waitHealthy, writeApp } from '../deploy-under-load/app.js';
import { APP_DIR, liveRelease, runVerb, SERVICE, status, verbs, writeStack, type Action } from '../deploy-under-load/symphony.js';
import { failedPolls, timeTo100, VersionPoller } from './poller.js';

/**
 * Deploy overhead bench (issue 3). Per blue-green deploy: the time from
 * `symphony apply` until 100% of the route's answers carry the new version
 * (a client polls every 20 ms on new connections), minus the new app's own
 * time to become healthy (the same files started directly, /healthz polled
 * every 20 ms, measured right before). Once with Symphony's default health
 * interval and once with `interval: 100ms`. Then, when `symphony rollback`
 * exists, rollback to the warm previous release: time to 100% on the old
 * version. Target: median overhead <= 1 s, rollback <= 1 s.
 * Run: npm run build && node --import tsx bench/deploy-overhead/run.ts
 * Knobs: DO_DEPLOYS (10 per config), DO_ROLLBACKS (5).
 */
export const COMMAND = 'npm run build && node --import tsx bench/deploy-overhead/run.ts';
const DEPLOYS = Number(process.env.DO_DEPLOYS ?? 10);
const ROLLBACKS = Number(process.env.DO_ROLLBACKS ?? 5);
const REPLICAS = 2;
/** Polling continues this long after the command returns, to see that traffic stays on the new version. */
const SETTLE_MS = 1000;
const TARGET_MS = 1000;
const CONFIGS = [
  { name: 'blue-green, default health interval', interval: undefined },
  { name: 'blue-green, health interval 100ms', interval: '100ms' },
] as const;

interface DeploySample {
  version: string;
  to100Ms: number;
  ownHealthyMs: number;
  /** What the new instances logged as their own start->listening time (max over replicas). */
  appLoggedMs: number | null;
  overheadMs: number;
  commandMs: number;
  /** From the command's start to the first journaled step (CLI start, plan, submit to the agent). */
  firstStepMs: number | null;
  /** `symphony --version` right before: the part of "CLI to first step" that is Node starting the CLI. */
  cliVersionMs: number;
  /** The start step: spawning the new instances. */
  startStepMs: number | null;
  healthStepMs: number | null;
  /** From the command's start to the journaled end of the switch step. */
  switchEndMs: number | null;
  failedPolls: number;
}

let stateDir: string | null = null;

/** The app's own time to healthy: start the same files directly and poll /healthz every 20 ms. */
async function ownHealthy(dir: string, version: string): Promise<number> {
  const appDir = join(dir, 'direct-app');
  writeApp(appDir, version);
  const port = await freePort();
  const fd = openSync(join(dir, 'direct-app.log'), 'a');
  const t0 = Date.now();
  const child = startDirect(appDir, port, fd);
  closeSync(fd);
  try {
    await waitHealthy(port, 20_000, 20);
    return Date.now() - t0;
  } finally {
    await stopDirect(child);
  }
}

async function appLogged(dir: string): Promise<number | null> {
  const s = await status(dir);
  const svc = s.services.find((x) => x.name === SERVICE);
  const ms = (svc?.instances ?? [])
    .filter((i) => i.release === svc?.release)
    .map((i) => join(stateDir!, 'logs', `${i.id}.log`))
    .filter((f) => existsSync(f))
    .map((f) => Number(/listening \S+ after ([\d.]+) ms/.exec(readFileSync(f, 'utf8'))?.[1] ?? NaN));
  return ms.length && ms.every(Number.isFinite) ? Math.max(...ms) : null;
}

const stepMs = (a: Action, re: RegExp, edge: 'start' | 'end'): number | null => {
  const s = a.steps.find((x) => re.test(x.name));
  const t = edge === 'start' ? s?.startedAt : s?.endedAt;
  return t != null ? t - a.startedAt : null;
};

const stepLength = (a: Action, re: RegExp): number | null => {
  const [b, e] = [stepMs(a, re, 'start'), stepMs(a, re, 'end')];
  return b !== null && e !== null ? e - b : null;
};

const firstStep = (a: Action): number | null => (a.steps.length ? Math.min(...a.steps.map((x) => x.startedAt ?? Infinity)) - a.startedAt : null);

/** Wall time of `symphony --version` (Node starting the CLI, nothing else). */
async function cliStartup(dir: string): Promise<number> {
  const t0 = Date.now();
  const r = await symphony(['--version'], { cwd: dir });
  if (r.code !== 0) throw new Error(`symphony --version exited with ${r.code}: ${r.stderr}`);
  return Date.now() - t0;
}

async function timed(poller: VersionPoller, dir: string, expect: string, label: string, args: string[]): Promise<{ action: Action; to100Ms: number; failed: number }> {
  const from = Date.now();
  const action = await runVerb(dir, label, args);
  await sleep(SETTLE_MS);
  return { action, to100Ms: timeTo100(poller.polls, expect, from), failed: failedPolls(poller.polls, from).length };
}

async function deploys(dir: string, port: number, poller: VersionPoller, prefix: string): Promise<DeploySample[]> {
  const out: DeploySample[] = [];
  for (let i = 1; i <= DEPLOYS; i++) {
    const version = `${prefix}-${i}`;
    const own = await ownHealthy(dir, version);
    const cliVersionMs = await cliStartup(dir);
    writeApp(join(dir, APP_DIR), version);
    const { action, to100Ms, failed } = await timed(poller, dir, version, `deploy ${version}`, ['apply', '--yes']);
    await liveRelease(dir, REPLICAS);
    const s: DeploySample = {
      version,
      to100Ms,
      ownHealthyMs: own,
      appLoggedMs: await appLogged(dir),
      overheadMs: to100Ms - own,
      commandMs: action.endedAt - action.startedAt,
      firstStepMs: firstStep(action),
      cliVersionMs,
      startStepMs: stepLength(action, /:start$/),
      healthStepMs: stepLength(action, /:health$/),
      switchEndMs: stepMs(action, /:switch$/, 'end'),
      failedPolls: failed,
    };
    note(`  ${version}: 100% after ${to100Ms} ms, app alone ${own} ms, overhead ${s.overheadMs} ms (health step ${s.healthStepMs} ms)`);
    out.push(s);
  }
  return out;
}

async function rollbacks(dir: string, port: number, poller: VersionPoller): Promise<Array<{ to: string; to100Ms: number; commandMs: number; firstStepMs: number | null; failedPolls: number }>> {
  const out = [];
  for (let i = 1; i <= ROLLBACKS; i++) {
    const previous = (await get(port, '/', 15_000)).body.trim();
    writeApp(join(dir, APP_DIR), `rb-${i}`);
    await runVerb(dir, `deploy rb-${i}`, ['apply', '--yes']);
    const { action, to100Ms, failed } = await timed(poller, dir, previous, `rollback ${i}`, ['rollback', SERVICE]);
    note(`  rollback ${i}: rb-${i} -> ${previous}: 100% after ${to100Ms} ms`);
    out.push({ to: previous, to100Ms, commandMs: action.endedAt - action.startedAt, firstStepMs: firstStep(action), failedPolls: failed });
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('the CLI is not built: run `npm run build`, then `node --import tsx bench/deploy-overhead/run.ts`');
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'symphony-overhead-'));
  stateDir = join(dir, '.symphony');
  const port = await freePort();
  const poller = new VersionPoller(port, 20);
  const results: Record<string, DeploySample[]> = {};
  let rb: Awaited<ReturnType<typeof rollbacks>> | null = null;
  try {
    for (const [n, c] of CONFIGS.entries()) {
      writeStack(dir, { routePort: port, replicas: REPLICAS, strategy: 'blue-green', healthInterval: c.interval });
      writeApp(join(dir, APP_DIR), `c${n}-0`);
      await runVerb(dir, 'setup', ['apply', '--yes']);
      if (n === 0) poller.start();
      note(`${c.name}:`);
      results[c.name] = await deploys(dir, port, poller, `c${n}`);
    }
    if ((await verbs(dir)).has('rollback')) {
      rb = await rollbacks(dir, port, poller);
    }
  } finally {
    await poller.stop();
    await cleanup(stateDir);
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]): number => summarize(xs).median;
  const rows: (string | number | null)[][] = Object.entries(results).map(([name, s]) => [
    name,
    s.length,
    med(s.map((x) => x.to100Ms)),
    med(s.map((x) => x.ownHealthyMs)),
    med(s.map((x) => x.overheadMs)),
    summarize(s.map((x) => x.overheadMs)).p90,
    med(s.map((x) => x.cliVersionMs)),
    med(s.map((x) => x.firstStepMs ?? NaN).filter(Number.isFinite)),
    med(s.map((x) => x.startStepMs ?? NaN).filter(Number.isFinite)),
    med(s.map((x) => x.healthStepMs ?? NaN).filter(Number.isFinite)),
    s.reduce((n, x) => n + x.failedPolls, 0),
    med(s.map((x) => x.overheadMs)) <= TARGET_MS ? 'met' : 'missed',
  ]);
  if (rb) rows.push(['rollback to warm release', rb.length, med(rb.map((x) => x.to100Ms)), null, med(rb.map((x) => x.to100Ms)), summarize(rb.map((x) => x.to100Ms)).p90, null, med(rb.map((x) => x.firstStepMs ?? NaN).filter(Number.isFinite)), null, null, rb.reduce((n, x) => n + x.failedPolls, 0), med(rb.map((x) => x.to100Ms)) <= TARGET_MS ? 'met' : 'missed']);
  process.stdout.write(`${formatTable(['case', 'n', 'to 100% ms (median)', 'app alone ms', 'overhead ms (median)', 'overhead p90', 'CLI --version', 'CLI to 1st step', 'start step', 'health step', 'failed polls', `target <= ${TARGET_MS} ms`], rows, 0)}\n`);
  if (!rb) process.stdout.write('\nnot run: rollback to a warm release: `symphony rollback` is not in this build (symphony --help)\n');
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, s]) => [name, { overheadMs: rounded(summarize(s.map((x) => x.overheadMs)), 0), to100Ms: rounded(summarize(s.map((x) => x.to100Ms)), 0), ownHealthyMs: rounded(summarize(s.map((x) => x.ownHealthyMs)), 0), samples: s }]),
  );
  const path = writeResult('deploy-overhead', COMMAND, machine, {
    targetMs: TARGET_MS,
    replicas: REPLICAS,
    pollEveryMs: 20,
    deploys: summary,
    rollback: rb ? { to100Ms: rounded(summarize(rb.map((x) => x.to100Ms)), 0), samples: rb } : { skipped: '`symphony rollback` is not in this build' },
    overheadMedianMs: Object.fromEntries(Object.entries(results).map(([name, s]) => [name, round(med(s.map((x) => x.overheadMs)), 0)])),
  });
  note(`wrote ${path}`);
}

process.once('SIGINT', () => {
  void (stateDir ? cleanup(stateDir) : Promise.resolve()).finally(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  process.stderr.write(`deploy-overhead bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  if (stateDir) await cleanup(stateDir).catch(() => undefined);
  process.exit(1);
});
