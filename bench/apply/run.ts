import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { EnvStatus } from '../../src/agent/status.js';
import { AGENT_NODE_FLAGS } from '../../src/cli/agent-client.js';
import type * as Planning from '../../src/cli/planning.js';
import type { Plan } from '../../src/plan/types.js';
import { run, type RunResult } from '../../src/util/exec.js';
import { freePort } from '../../src/util/ports.js';
import { APP, cleanup, stopAgent, symphony } from '../../test/helpers/cli.js';
import { interleave, processCpuMs, processMemory, timeIt, watchRss } from '../lib/measure.js';
import { machineInfo, note, ROOT } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { appendSamples, emptySamples, report, type ApplyBenchSamples } from './report.js';
import { bumpVersions, referencingCount, writeStack, type BenchStackShape } from './stack.js';

/**
 * Apply bench (issue 2): a 20-service stack of real processes, applied by the
 * built CLI. Per round, in a fresh temp dir and state dir: cold apply (starts
 * agent and router), apply after changing every service (20 blue-green
 * replaces), agent RSS after each and after an idle spell, then no-change
 * `plan` interleaved with `symphony --version` (Node startup) and the planner
 * in-process (computePlan from dist/).
 * Run: npm run build && node --import tsx bench/apply/run.ts
 * Knobs: APPLY_BENCH_ROUNDS (3), APPLY_BENCH_PLANS (15 per round), APPLY_BENCH_IDLE_S (30), APPLY_BENCH_SERVICES (20).
 */
const ROUNDS = Number(process.env.APPLY_BENCH_ROUNDS ?? 3);
const PLANS = Number(process.env.APPLY_BENCH_PLANS ?? 15);
const IDLE_MS = Number(process.env.APPLY_BENCH_IDLE_S ?? 30) * 1000;
const SERVICES = Number(process.env.APPLY_BENCH_SERVICES ?? 20);
const ROUTES = 4;
export const COMMAND = 'npm run build && node --import tsx bench/apply/run.ts';

class BenchFailure extends Error {}

/** State dir of the round in progress, for the SIGINT handler. */
let current: string | null = null;

/** The built planner; the bench measures dist/, so it refuses to run without a build. */
async function loadPlanning(): Promise<typeof Planning> {
  for (const f of ['dist/cli/main.js', 'dist/cli/planning.js', 'dist/agent/main.js']) {
    if (!existsSync(join(ROOT, f))) throw new BenchFailure(`the CLI is not built: ${join(ROOT, f)} does not exist; run \`npm run build\`, then \`node --import tsx bench/apply/run.ts\``);
  }
  return (await import(pathToFileURL(join(ROOT, 'dist/cli/planning.js')).href)) as typeof Planning;
}

/** The last lines of the log of every instance an error message names, read before cleanup removes them. */
function instanceLogs(text: string, state: string | null): string {
  if (!state) return '';
  const ids = new Set([...text.matchAll(/instance ([a-z][a-z0-9-]*-[0-9a-f]{8}-\d+)/g)].map((m) => m[1]));
  return [...ids]
    .map((id) => {
      const file = join(state, 'logs', `${id}.log`);
      return existsSync(file) ? `\n--- ${file} (last lines)\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}` : '';
    })
    .join('');
}

function mustSucceed(what: string, r: RunResult): RunResult {
  if (r.code !== 0) throw new BenchFailure(`${what} exited with ${r.code ?? r.signal}:\n${r.stderr.slice(-2000)}${instanceLogs(r.stderr, current)}`);
  return r;
}

/** Every service has its one instance alive, on a release other than those in `not`. */
async function checkRunning(dir: string, count: number, not: Map<string, string | null> = new Map()): Promise<Map<string, string | null>> {
  const s = JSON.parse(mustSucceed('symphony status', await symphony(['status', '--json'], { cwd: dir })).stdout) as EnvStatus;
  const alive = s.services.flatMap((svc) => svc.instances.filter((i) => i.alive && i.release === svc.release));
  if (s.services.length !== count || alive.length !== count) throw new BenchFailure(`expected ${count} services with one live instance each, got ${s.services.length} services and ${alive.length} live instances`);
  const stale = s.services.filter((svc) => not.has(svc.name) && not.get(svc.name) === svc.release);
  if (stale.length > 0) throw new BenchFailure(`services not replaced by the second apply: ${stale.map((x) => x.name).join(', ')}`);
  return new Map(s.services.map((svc) => [svc.name, svc.release]));
}

/** The built agent, as ensureAgent spawns it. */
const AGENT_ENTRY = join(ROOT, 'dist/agent/main.js');

const agentPid = (state: string): number => Number(readFileSync(join(state, 'agent.pid'), 'utf8').trim());

/**
 * RSS of an agent serving an empty state dir, after `settleMs`: the baseline the 20 instances add to.
 * Started the way the CLI starts one (ensureAgent): the agent's entry with the agent's V8 flags.
 */
async function emptyAgentRss(settleMs: number): Promise<{ rssMiB: number; anonMiB: number }> {
  const state = mkdtempSync(join(tmpdir(), 'symphony-bench-agent-'));
  const args = [...AGENT_NODE_FLAGS, AGENT_ENTRY, state];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    for (let i = 0; !existsSync(join(state, 'agent.pid')); i++) {
      if (i > 400 || child.exitCode !== null) throw new BenchFailure(`the agent for an empty state dir did not start (exit ${child.exitCode}); try: node ${args.join(' ')}`);
      await sleep(25);
    }
    await sleep(settleMs);
    const m = processMemory(child.pid!);
    return { rssMiB: m.rssMiB, anonMiB: m.anonMiB };
  } finally {
    await stopAgent(state);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
}

async function round(n: number, planning: typeof Planning, out: ApplyBenchSamples): Promise<void> {
  const shape: BenchStackShape = { count: SERVICES, routePorts: [] };
  for (let i = 0; i < ROUTES; i++) shape.routePorts.push(await freePort());
  const dir = writeStack(shape, APP);
  const state = join(dir, '.symphony');
  current = state;
  try {
    const empty = await emptyAgentRss(3000);
    out.rss.emptyAgent.push(empty.rssMiB);
    out.rss.anonEmptyAgent.push(empty.anonMiB);
    const cold = await timeIt(() => symphony(['apply', '--yes'], { cwd: dir }));
    mustSucceed('cold apply', cold.value);
    const releases = await checkRunning(dir, SERVICES);
    const pid = agentPid(state);
    out.rss.afterCreate.push(processMemory(pid).rssMiB);
    note(`round ${n}: cold apply of ${SERVICES} services ${cold.ms.toFixed(0)} ms, agent ${processMemory(pid).rssMiB.toFixed(1)} MiB`);
    out.apply.create.push(cold.ms);

    bumpVersions(dir, shape, `v${n + 2}`);
    const change = await timeIt(() => symphony(['apply', '--yes'], { cwd: dir }));
    mustSucceed('apply after changing every service', change.value);
    await checkRunning(dir, SERVICES, releases);
    if (agentPid(state) !== pid) throw new BenchFailure(`the agent restarted during the bench (pid ${pid} -> ${agentPid(state)}); see ${join(state, 'agent.log')}`);
    out.apply.replaceAll.push(change.ms);
    out.rss.afterReplace.push(processMemory(pid).rssMiB);
    note(`round ${n}: apply replacing ${SERVICES} services ${change.ms.toFixed(0)} ms, agent ${processMemory(pid).rssMiB.toFixed(1)} MiB`);

    const cpu0 = processCpuMs(pid);
    const idle = await watchRss(pid, IDLE_MS, 1000);
    out.rss.afterIdle.push(idle[idle.length - 1]);
    out.rss.anonAfterIdle.push(processMemory(pid).anonMiB);
    out.rss.peak.push(processMemory(pid).peakRssMiB);
    out.agentIdleCpuPercent.push(((processCpuMs(pid) - cpu0) / IDLE_MS) * 100);
    note(`round ${n}: after ${IDLE_MS / 1000} s idle agent ${idle[idle.length - 1].toFixed(1)} MiB (peak ${processMemory(pid).peakRssMiB.toFixed(1)} MiB)`);

    const file = join(dir, 'symphony.yaml');
    const samples = await interleave<RunResult | Plan>(
      {
        plan: () => symphony(['plan', '--json'], { cwd: dir }),
        nodeStartup: () => symphony(['--version'], { cwd: dir }),
        nodeBare: () => run(process.execPath, ['-e', '0'], { cwd: dir }),
        plannerInProcess: async () => (await planning.computePlan(file, undefined, state)).plan,
      },
      {
        rounds: PLANS,
        warmup: 1,
        check: (name, v) => {
          if ('steps' in v) {
            if (v.steps.length !== 0) throw new BenchFailure(`${name}: the plan should be empty after apply, has ${v.steps.length} steps`);
            return;
          }
          mustSucceed(`symphony ${name}`, v);
          if (name === 'plan' && (JSON.parse(v.stdout) as Plan).steps.length !== 0) throw new BenchFailure('symphony plan shows changes after apply; the no-change plan is not measured');
        },
      },
    );
    out.plan.cli.push(...samples.plan);
    out.plan.nodeStartup.push(...samples.nodeStartup);
    out.plan.nodeBare.push(...samples.nodeBare);
    out.plan.inProcess.push(...samples.plannerInProcess);
    note(`round ${n}: no-change plan median ${summarize(samples.plan).median.toFixed(0)} ms (node --version ${summarize(samples.nodeStartup).median.toFixed(0)} ms, in-process ${summarize(samples.plannerInProcess).median.toFixed(0)} ms)`);
  } finally {
    await cleanup(state);
    current = null;
    rmSync(dir, { recursive: true, force: true });
  }
}

process.once('SIGINT', () => {
  note('interrupted: stopping the agent, router and instances of the current round');
  void (current ? cleanup(current) : Promise.resolve()).finally(() => process.exit(130));
});

async function main(): Promise<void> {
  const machine = machineInfo();
  const planning = await loadPlanning();
  const out = emptySamples();
  const retried: string[] = [];
  note(`apply bench: ${SERVICES} services (${ROUTES} routed, ${referencingCount({ count: SERVICES, routePorts: Array(ROUTES).fill(0) })} referencing one), ${ROUNDS} rounds, ${PLANS} plans per round, load ${machine.loadAverage.join(' ')}`);
  for (let n = 0; n < ROUNDS; n++) {
    const samples = emptySamples();
    try {
      await round(n, planning, samples);
      appendSamples(out, samples);
    } catch (err) {
      // An instance port taken between the agent's check and the instance's listen
      // (ports >= 40000 lie in the kernel's ephemeral range) undoes the apply: retry the round.
      const collision = err instanceof BenchFailure && err.message.includes('EADDRINUSE');
      if (!collision || retried.length >= 2 * ROUNDS) {
        if (out.apply.create.length === 0) throw err;
        note(`round ${n} failed; reporting the ${out.apply.create.length} round(s) done: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
        break;
      }
      retried.push(err.message.split('\n').find((l) => l.includes('failed')) ?? 'EADDRINUSE');
      note(`round ${n}: an instance lost its port to another process (EADDRINUSE); the apply was undone, retrying the round`);
      n--;
    }
    await sleep(500);
  }
  report(machine, { services: SERVICES, routes: ROUTES, rounds: ROUNDS, plansPerRound: PLANS, idleSeconds: IDLE_MS / 1000, retriedRounds: retried }, out);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`apply bench failed: ${err instanceof BenchFailure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
