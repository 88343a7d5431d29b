import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/util/ports.js';
import { cleanup, symphony } from '../../test/helpers/cli.js';
import { machineInfo, note, ROOT, writeResult } from '../lib/report.js';
import { get, writeApp } from './app.js';
import { LoadGenerator, totals, type LoadShape } from './load-client.js';
import { Pm2Cluster, PlainProcess } from './peers.js';
import { failureLines, jsonResults, phaseReport, table, type PhaseReport, type SkippedPhase, type Tool } from './report.js';
import { APP_DIR, evidence, liveRelease, routerStats, runVerb, SERVICE, SymphonyCommandError, verbs, writeStack, type Action } from './symphony.js';

/**
 * Deploy-under-load bench (issue 3): one load generator process keeps paced
 * keep-alive and new-connection requests plus 2-second requests on the app
 * while it is released again and again, and counts every request. Phases, in
 * one run with the same load and app: Symphony blue-green deploys, canary
 * deploys and rollbacks (each when the CLI has it), then pm2 cluster mode
 * `pm2 reload`s, then a plain stop/start. Prints a table, writes
 * bench/results/deploy-under-load.json.
 * Run: npm run build && node --import tsx bench/deploy-under-load/run.ts
 * Knobs: DUL_RATE (1200 req/s), DUL_DEPLOYS (10), DUL_CANARIES (5), DUL_ROLLBACKS (5), DUL_RELOADS (3), DUL_RESTARTS (3).
 */
export const COMMAND = 'npm run build && node --import tsx bench/deploy-under-load/run.ts';
const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const SHAPE: LoadShape = { rate: num('DUL_RATE', 1200), newConnectionShare: 0.15, keepAliveLoops: 64, newConnectionLoops: 8, slowInFlight: 4 };
const REPLICAS = 2;
/** Load runs this long before the first release and after the last one of a phase. */
const LEAD_MS = 2000;
const TAIL_MS = 3000;

let stateDir: string | null = null;
let pm2: Pm2Cluster | null = null;
let plain: PlainProcess | null = null;
let load: LoadGenerator | null = null;

/**
 * Run one phase under load and append its report to `out`. When a release
 * fails, the phase is still reported (with the error and what was counted up
 * to then) and the error is rethrown so that the phase group stops.
 */
async function phase(out: PhaseReport[], name: string, tool: Tool, port: number, versionPrefix: string, releases: (actions: Action[]) => Promise<void>): Promise<void> {
  note(`${name}: load on port ${port}`);
  await load!.start(name, port, versionPrefix);
  const actions: Action[] = [];
  let error: unknown = null;
  try {
    await sleep(LEAD_MS);
    await releases(actions);
  } catch (err) {
    error = err;
  }
  await sleep(TAIL_MS);
  const counts = await load!.stop();
  const router = tool === 'symphony' && stateDir ? await routerStats(stateDir) : null;
  const message = error === null ? null : error instanceof Error ? error.message : String(error);
  out.push(phaseReport(name, tool, actions, counts, TAIL_MS, router, tool === 'symphony' && stateDir ? evidence(stateDir) : null, message));
  const t = totals(counts);
  note(`${name}: ${t.sent} sent, ${t.failed} failed, ${Math.round(t.rps)} req/s${message ? `; stopped: ${message}` : ''}`);
  if (error !== null) throw error;
}

/** The version string the route serves now (what a client sees). */
async function served(port: number): Promise<string> {
  return (await get(port, '/', 15_000)).body.trim();
}

/** Run a group of phases; an error ends the group and is reported as a phase not run, and the bench goes on. */
async function guarded(name: string, skipped: SkippedPhase[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    note(`${name} stopped: ${reason}`);
    skipped.push({ phase: name, reason: `failed: ${reason}` });
  }
}

/**
 * A release of the Symphony app: new files, `apply`, then the route must
 * serve the new version on a new release. A failed apply is recorded (the old
 * release must still serve) and the phase goes on: it is a finding, and the
 * traffic through it still counts.
 */
async function deploy(dir: string, port: number, version: string, label: string): Promise<Action> {
  const before = await liveRelease(dir, REPLICAS);
  const servedBefore = await served(port);
  writeApp(join(dir, APP_DIR), version);
  const startedAt = Date.now();
  let action: Action;
  try {
    action = await runVerb(dir, label, ['apply', '--yes']);
  } catch (err) {
    if (!(err instanceof SymphonyCommandError)) throw err;
    const still = await liveRelease(dir, REPLICAS);
    const seen = await served(port);
    if (still !== before || seen !== servedBefore) throw new Error(`${label}: apply failed and left ${still} serving ${seen} (was ${before} serving ${servedBefore}): ${err.message}`);
    note(`  ${label}: apply FAILED, ${before} kept serving ${seen}: ${err.message.split('\n')[0]}`);
    return { label, startedAt, endedAt: Date.now(), operation: null, steps: [], error: err.message };
  }
  const after = await liveRelease(dir, REPLICAS);
  if (after === before) throw new Error(`${label}: apply left ${SERVICE} on release ${before}; the files change was not a replace`);
  const seen = await served(port);
  if (seen !== version) throw new Error(`${label}: the route serves ${seen} after apply, expected ${version}`);
  note(`  ${label}: ${before} -> ${after} in ${action.endedAt - action.startedAt} ms`);
  return action;
}

/** Whether the planner emits canary steps (the strategy has landed) for the stack as it is now in `dir`. */
async function canaryLanded(dir: string): Promise<boolean> {
  const r = await symphony(['plan', '--json'], { cwd: dir });
  if (r.code !== 0) return false;
  const plan = JSON.parse(r.stdout) as { steps: Array<{ verb: string }> };
  const blueGreen = new Set(['release', 'start', 'health', 'switch', 'drain', 'stop-old', 'prepare']);
  return plan.steps.some((s) => !blueGreen.has(s.verb));
}

async function symphonyPhases(dir: string, out: PhaseReport[], skipped: SkippedPhase[]): Promise<void> {
  const port = await freePort();
  let n = 0;
  writeApp(join(dir, APP_DIR), `sym-${n}`);
  writeStack(dir, { routePort: port, replicas: REPLICAS, strategy: 'blue-green' });
  await runVerb(dir, 'initial apply', ['apply', '--yes']);
  await liveRelease(dir, REPLICAS);

  await phase(out, 'symphony blue-green', 'symphony', port, 'sym-', async (actions) => {
    for (let i = 1; i <= num('DUL_DEPLOYS', 10); i++) actions.push(await deploy(dir, port, `sym-${++n}`, `blue-green ${i}`));
  });

  writeStack(dir, { routePort: port, replicas: REPLICAS, strategy: 'canary', steps: [10, 50, 100] });
  writeApp(join(dir, APP_DIR), `sym-${n + 1}`);
  if (await canaryLanded(dir)) {
    await phase(out, 'symphony canary', 'symphony', port, 'sym-', async (actions) => {
      for (let i = 1; i <= num('DUL_CANARIES', 5); i++) actions.push(await deploy(dir, port, `sym-${++n}`, `canary ${i}`));
    });
  } else {
    skipped.push({ phase: 'symphony canary', reason: 'the planner emits no canary steps for `deploy: { strategy: canary }` in this build' });
  }
  writeStack(dir, { routePort: port, replicas: REPLICAS, strategy: 'blue-green' });
  writeApp(join(dir, APP_DIR), `sym-${n}`);

  if ((await verbs(dir)).has('rollback')) {
    await phase(out, 'symphony rollback', 'symphony', port, 'sym-', async (actions) => {
      for (let i = 1; i <= num('DUL_ROLLBACKS', 5); i++) {
        const before = await served(port);
        const a = await runVerb(dir, `rollback ${i}`, ['rollback', SERVICE]);
        const after = await served(port);
        if (after === before) throw new Error(`rollback ${i}: the route still serves ${before}`);
        note(`  rollback ${i}: ${before} -> ${after} in ${a.endedAt - a.startedAt} ms`);
        actions.push(a);
      }
    });
  } else {
    skipped.push({ phase: 'symphony rollback', reason: '`symphony rollback` is not in this build (symphony --help)' });
  }
}

async function pm2Phase(dir: string, out: PhaseReport[]): Promise<void> {
  const port = await freePort();
  pm2 = new Pm2Cluster(dir, port, REPLICAS);
  await pm2.start('pm2-0');
  await phase(out, 'pm2 reload (cluster, 2)', 'pm2', port, 'pm2-', async (actions) => {
    for (let i = 1; i <= num('DUL_RELOADS', 3); i++) {
      actions.push(await pm2!.reload(`pm2-${i}`, `pm2 reload ${i}`));
      const seen = await served(port);
      if (seen !== `pm2-${i}`) throw new Error(`pm2 reload ${i}: the app serves ${seen}, expected pm2-${i}`);
    }
  });
  await pm2.kill();
  pm2 = null;
}

async function plainPhase(dir: string, out: PhaseReport[]): Promise<void> {
  const port = await freePort();
  plain = new PlainProcess(dir, port);
  await plain.start('plain-0');
  await phase(out, 'plain stop/start', 'stop-start', port, 'plain-', async (actions) => {
    for (let i = 1; i <= num('DUL_RESTARTS', 3); i++) actions.push(await plain!.restart(`plain-${i}`, `restart ${i}`));
  });
  await plain.stop();
  plain = null;
}

async function teardown(): Promise<void> {
  load?.close();
  load = null;
  await pm2?.kill().catch(() => undefined);
  await plain?.stop().catch(() => undefined);
  if (stateDir) await cleanup(stateDir).catch(() => undefined);
  stateDir = null;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error(`the CLI is not built: run \`npm run build\`, then \`node --import tsx bench/deploy-under-load/run.ts\``);
  const machine = machineInfo();
  const dir = mkdtempSync(join(tmpdir(), 'symphony-dul-'));
  stateDir = join(dir, '.symphony');
  const phases: PhaseReport[] = [];
  const skipped: SkippedPhase[] = [];
  try {
    load = await LoadGenerator.spawn(SHAPE);
    await guarded('symphony', skipped, () => symphonyPhases(dir, phases, skipped));
    await cleanup(stateDir);
    stateDir = null;
    await guarded('pm2 reload', skipped, () => pm2Phase(dir, phases));
    await pm2?.kill();
    pm2 = null;
    await guarded('plain stop/start', skipped, () => plainPhase(dir, phases));
  } finally {
    await teardown();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${table(phases)}\n`);
  const lines = failureLines(phases);
  if (lines.length) process.stdout.write(`\nWhere requests failed:\n${lines.join('\n')}\n`);
  for (const s of skipped) process.stdout.write(`\nnot run: ${s.phase}: ${s.reason}\n`);
  const path = writeResult('deploy-under-load', COMMAND, machine, jsonResults(SHAPE, phases, skipped));
  note(`wrote ${path}`);
}

process.once('SIGINT', () => {
  note('interrupted: stopping the load generator, pm2, the plain app and the Symphony stack');
  void teardown().finally(() => process.exit(130));
});

main().catch(async (err: unknown) => {
  process.stderr.write(`deploy-under-load bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await teardown();
  process.exit(1);
});
