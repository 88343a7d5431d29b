import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { distinctFreePorts } from '../../src/util/ports.js';
import { run as exec } from '../../src/util/exec.js';
import { cleanup, json, symphony } from '../../test/helpers/cli.js';
import { commit, gitRepo, stampApp } from '../../test/helpers/pipeline.js';
import { LoadGenerator, totals } from '../deploy-under-load/load-client.js';
import { timeIt } from '../lib/measure.js';
import { formatTable, machineInfo, note, ROOT, writeResult } from '../lib/report.js';
import { round, rounded, summarize } from '../lib/stats.js';

/**
 * Pipeline bench (issue 10), three parts on one real git repo and state dir:
 * 1. Overhead: each round commits a new app version and times
 *    `symphony pipeline run --wait` (build, test, staging deploy, perf load,
 *    production deploy) and, in the same round, the same steps as a plain
 *    shell script (plain.sh), step by step. Overhead = the run's wall time
 *    minus the script's own commands (build, test, load, the app's start to
 *    healthy on staging and production). Target <= 2 s.
 * 2. Perf gate quality: runs of an unchanged app must all pass; runs of the
 *    app made PB_SLOWER_MS (20) ms slower must all fail.
 * 3. Production under constant load (paced keep-alive and new-connection
 *    clients) through PB_PROMOTIONS (5) promotions: failed requests.
 * Run: npm run build && node --import tsx bench/pipeline/run.ts
 *    The gate judges the windowed p95 (median of per-second p95s after a
 *    warm-up second) and measures a regression once more before it stands
 *    (docs/pipeline.md); the table counts how many verdicts needed that.
 * Knobs: PB_OVERHEAD_RUNS (5), PB_GATE_RUNS (10), PB_PROMOTIONS (5), PB_RATE (100 req/s), PB_DURATION (3s),
 * PB_GATE_DURATION (6s: five one-second windows after the warm-up), PB_SLOWER_MS (20).
 */
export const COMMAND = 'npm run bench:pipeline';
const N = { overhead: Number(process.env.PB_OVERHEAD_RUNS ?? 5), gate: Number(process.env.PB_GATE_RUNS ?? 10), promotions: Number(process.env.PB_PROMOTIONS ?? 5) };
const RATE = Number(process.env.PB_RATE ?? 100);
const DURATION_S = Number(process.env.PB_DURATION ?? 3);
const GATE_DURATION_S = Number(process.env.PB_GATE_DURATION ?? 6);
const SLOWER_MS = Number(process.env.PB_SLOWER_MS ?? 20);
const TARGET_MS = 2000;
const BUILD = 'date +%s%N > build.txt';
const TEST = "node -e \"require('node:assert').ok(1 + 1 === 2)\"";
const PLAIN = join(ROOT, 'bench/pipeline/plain.sh');
const LOAD_MAIN = join(ROOT, 'dist/pipeline/load-main.js');

interface RunView {
  id: string;
  status: string;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  stages: Array<{ name: string; status: string; detail: string | null; perf?: { p95: number; steadyP95: number; failures: number; sent: number }; loads?: Array<{ p95: number; steadyP95: number }>; baselineP95?: number | null }>;
}
type Steps = Record<'export' | 'build' | 'test' | 'stagingStart' | 'load' | 'productionStart' | 'total', number>;

const STAGES = {
  full: ['{ name: test, run: "TEST" }', '{ name: staging, deploy: staging }', 'PERF', '{ name: production, deploy: production }'],
  gate: ['{ name: staging, deploy: staging }', 'PERF'],
  promote: ['{ name: test, run: "TEST" }', '{ name: staging, deploy: staging }', '{ name: production, deploy: production }'],
};
const stackFile = (ports: number[], stages: string[], drain: string, durationS = DURATION_S): string => `name: pbench
services:
  web:
    run: node server.mjs
    dir: ./app
    build: "${BUILD}"
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: ${drain}, warm: 0s }
routes:
  - { listen: ${ports[1]}, to: web }
environments:
  staging: { routes: [{ listen: ${ports[0]}, to: web }] }
  production: {}
pipeline:
  stages:
${stages.map((s) => `    - ${s.replace('"TEST"', JSON.stringify(TEST)).replace('PERF', `{ name: perf, perf: { env: staging, to: web, rate: ${RATE}, duration: ${durationS}s, baseline_runs: 5 } }`)}`).join('\n')}
`;

async function main(): Promise<void> {
  const machine = machineInfo();
  const ports = await distinctFreePorts(2);
  const state = mkdtempSync(join(tmpdir(), 'symphony-bench-pipeline-'));
  const work = mkdtempSync(join(tmpdir(), 'symphony-bench-plain-'));
  const { dir: repo } = await gitRepo({ 'app/server.mjs': stampApp('v0'), 'symphony.yaml': stackFile(ports, STAGES.full, '200ms') });
  const pipelineRun = async (): Promise<{ ms: number; run: RunView }> => {
    const { ms, value } = await timeIt(() => symphony(['pipeline', 'run', '--wait', '--json', '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo }));
    return { ms, run: json<RunView>(value) };
  };
  try {
    note('warm-up run (first builds, first releases, perf baseline)');
    const warm = await pipelineRun();
    if (warm.run.status !== 'succeeded') throw new Error(`warm-up run ${warm.run.status}: ${warm.run.error}`);

    const overhead: Array<{ pipelineMs: number; agentMs: number; own: number; overheadMs: number; agentOverheadMs: number; plain: Steps; plainOverheadMs: number }> = [];
    for (let i = 1; i <= N.overhead; i++) {
      const sha = await commit(repo, { 'app/server.mjs': stampApp(`v${i}`) }, `v${i}`);
      const p = await pipelineRun();
      if (p.run.status !== 'succeeded') throw new Error(`${p.run.id} ${p.run.status}: ${p.run.error}`);
      const [sp, pp] = await distinctFreePorts(2);
      const load = JSON.stringify({ url: 'http://127.0.0.1:@PORT@/', rate: RATE, durationMs: DURATION_S * 1000, connections: 16 });
      const r = await exec(PLAIN, [repo, sha, join(work, `r${i}`), String(sp), String(pp), LOAD_MAIN, load], { env: { ...process.env, BUILD, TEST }, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`plain.sh failed: ${r.stderr}`);
      const plain = JSON.parse(r.stdout.trim().split('\n').pop()!) as Steps;
      const own = plain.build + plain.test + plain.stagingStart + plain.load + plain.productionStart;
      const agentMs = Date.parse(p.run.finishedAt!) - Date.parse(p.run.createdAt);
      overhead.push({ pipelineMs: p.ms, agentMs, own, overheadMs: p.ms - own, agentOverheadMs: agentMs - own, plain, plainOverheadMs: plain.total - own });
      note(`round ${i}: pipeline ${round(p.ms, 0)} ms (in the agent ${agentMs}), plain script ${plain.total} ms, own commands ${own} ms -> overhead ${round(p.ms - own, 0)} ms`);
    }

    note(`perf gate: ${N.gate} runs unchanged, then ${N.gate} runs ${SLOWER_MS} ms slower`);
    await commit(repo, { 'symphony.yaml': stackFile(ports, STAGES.gate, '200ms', GATE_DURATION_S) }, 'gate only');
    type Verdict = { run: string; passed: boolean; p95: number; gateP95: number; loads: number[]; baseline: number | null };
    const gate = { unchanged: [] as Verdict[], slower: [] as Verdict[] };
    for (const kind of ['unchanged', 'slower'] as const) {
      if (kind === 'slower') await commit(repo, { 'app/server.mjs': stampApp('slow', SLOWER_MS) }, `${SLOWER_MS} ms slower`);
      for (let i = 0; i < N.gate; i++) {
        const { run } = await pipelineRun();
        const perf = run.stages.find((s) => s.name === 'perf')!;
        if (!perf.perf) throw new Error(`${run.id} has no perf result: ${run.error}`);
        const loads = (perf.loads ?? [perf.perf]).map((l) => l.steadyP95);
        gate[kind].push({ run: run.id, passed: perf.status === 'succeeded', p95: perf.perf.p95, gateP95: perf.perf.steadyP95, loads, baseline: perf.baselineP95 ?? null });
        note(`${kind} ${run.id}: ${perf.status}: ${perf.detail}`);
      }
    }
    const falsePositives = gate.unchanged.filter((g) => !g.passed).length;
    const falseNegatives = gate.slower.filter((g) => g.passed).length;
    const measuredTwice = (xs: Verdict[]): number => xs.filter((g) => g.loads.length > 1).length;

    note(`production under constant load through ${N.promotions} promotions`);
    await commit(repo, { 'symphony.yaml': stackFile(ports, STAGES.promote, '1s'), 'app/server.mjs': stampApp('p0') }, 'promotions');
    const first = await pipelineRun();
    if (first.run.status !== 'succeeded') throw new Error(`${first.run.id} ${first.run.status}: ${first.run.error}`);
    const gen = await LoadGenerator.spawn({ rate: 400, newConnectionShare: 0.25, keepAliveLoops: 4, newConnectionLoops: 2, slowInFlight: 0 });
    const promotions: Array<{ id: string; status: string; ms: number }> = [];
    let counts;
    try {
      await gen.start('promotions', ports[1], 'p');
      for (let i = 1; i <= N.promotions; i++) {
        await commit(repo, { 'app/server.mjs': stampApp(`p${i}`) }, `p${i}`);
        const p = await pipelineRun();
        promotions.push({ id: p.run.id, status: p.run.status, ms: round(p.ms, 0) });
        note(`promotion ${i}: ${p.run.id} ${p.run.status} in ${round(p.ms, 0)} ms`);
      }
      // The last old release drains and stops after its run ended: keep the load on through that.
      await sleep(2000);
      counts = await gen.stop();
    } finally {
      gen.close();
    }
    const t = totals(counts);
    const versions: Record<string, number> = {};
    for (const [v, n] of Object.entries(counts.versions)) versions[v.split(' ')[0]] = (versions[v.split(' ')[0]] ?? 0) + n;

    const s = (xs: number[]) => rounded(summarize(xs), 0);
    const results = {
      overhead: { rounds: overhead, pipelineMs: s(overhead.map((o) => o.pipelineMs)), ownMs: s(overhead.map((o) => o.own)), overheadMs: s(overhead.map((o) => o.overheadMs)), agentOverheadMs: s(overhead.map((o) => o.agentOverheadMs)), plainMs: s(overhead.map((o) => o.plain.total)), plainOverheadMs: s(overhead.map((o) => o.plainOverheadMs)), targetMs: TARGET_MS },
      gate: { runs: N.gate, slowerMs: SLOWER_MS, rate: RATE, durationS: GATE_DURATION_S, falsePositives, falseNegatives, measuredTwice: { unchanged: measuredTwice(gate.unchanged), slower: measuredTwice(gate.slower) }, ...gate },
      promotions: { runs: promotions, sent: t.sent, failed: t.failed, non2xx: t.non2xx, socketErrors: t.socketErrors, wrongAnswer: t.wrongAnswer, rps: round(t.rps, 0), versions, failureKinds: counts.failureKinds },
    };
    const o = results.overhead;
    console.log(
      formatTable(
        ['overhead (median of ' + overhead.length + ')', 'ms'],
        [
          ['symphony pipeline run --wait (wall)', o.pipelineMs.median],
          ['  the same run inside the agent', s(overhead.map((x) => x.agentMs)).median],
          ['plain shell script, same steps', o.plainMs.median],
          ['own commands (build, test, load, app start x2)', o.ownMs.median],
          ['pipeline overhead (wall - own)', o.overheadMs.median],
          ['pipeline overhead in the agent', o.agentOverheadMs.median],
          ['plain script overhead', o.plainOverheadMs.median],
          ['target', TARGET_MS],
        ],
        0,
      ),
    );
    const med = (xs: Verdict[], k: 'p95' | 'gateP95'): number => round(summarize(xs.map((g) => g[k])).median, 1);
    console.log('\n' + formatTable(['perf gate', 'runs', 'passed', 'failed', 'median p95 ms', 'median gate p95 ms', 'measured twice', 'wrong verdicts'], [
      ['unchanged app', N.gate, N.gate - falsePositives, falsePositives, med(gate.unchanged, 'p95'), med(gate.unchanged, 'gateP95'), measuredTwice(gate.unchanged), falsePositives],
      [`${SLOWER_MS} ms slower`, N.gate, falseNegatives, N.gate - falseNegatives, med(gate.slower, 'p95'), med(gate.slower, 'gateP95'), measuredTwice(gate.slower), falseNegatives],
    ]));
    console.log('\n' + formatTable(['production under load', 'promotions', 'succeeded', 'requests', 'req/s', 'failed'], [['symphony pipeline', promotions.length, promotions.filter((p) => p.status === 'succeeded').length, t.sent, round(t.rps, 0), t.failed]]));
    note(`wrote ${writeResult('pipeline', COMMAND, machine, results)}`);
  } finally {
    await cleanup(state);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
