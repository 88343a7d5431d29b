import { loadStack } from '../../spec/index.js';
import { parseDuration } from '../../util/duration.js';
import { loadInChild, type LoadResult, type LoadSpec } from '../load.js';
import { judgePerf, PERF_DEFAULTS, type PerfLimits, type PerfVerdict } from '../verdict.js';
import { interrupted, type StageExecutor, type StageRun } from './types.js';

/** A result recorded before `steadyP95` existed is judged by its plain p95. */
const gateFigure = (m: LoadResult): number => m.steadyP95 ?? m.p95;
const numbers = (m: LoadResult): string => `${m.rps} req/s, ${m.failures}/${m.sent} failed, p50 ${m.p50} ms, p95 ${m.p95} ms, p99 ${m.p99} ms`;

/** One load, or the one already recorded under `key` when the agent died after it. */
async function measure(r: StageRun, spec: LoadSpec, key: 'result' | 'confirmation'): Promise<LoadResult | null> {
  const recorded = r.stage.data[key] as LoadResult | undefined;
  if (recorded) return recorded;
  if (r.resumed) return null;
  const m = await loadInChild(spec, (pid) => r.save({ pid }), r.io.signal);
  r.save({ [key]: m });
  return m;
}

/**
 * `perf:` an open-loop load at `rate` for `duration` through the
 * environment's route to `to`, judged on its windowed p95 (`steadyP95`)
 * against the median of the stage's last passing runs (`judgePerf`).
 * A latency regression is measured once more (`confirm`, default 1) and
 * stands only when every load regressed: on a shared machine a neighbour's
 * burst can spoil one load, a slower release spoils all of them. Errors
 * over the limit fail at once. Every run's numbers are kept for the trend.
 */
export const perfStage: StageExecutor = async (r) => {
  const p = r.config.perf!;
  const stack = loadStack(r.stackFile, { env: p.env === 'default' ? undefined : p.env });
  const route = stack.routes.find((x) => x.to === p.to);
  if (!route) return { status: 'failed', detail: `${p.env} has no route to ${p.to}: add one under environments.${p.env}.routes` };
  const url = `http://127.0.0.1:${route.listen}${p.path ?? '/'}`;
  const spec = { url, rate: p.rate ?? PERF_DEFAULTS.rate, durationMs: parseDuration(p.duration, PERF_DEFAULTS.durationMs), connections: p.connections ?? PERF_DEFAULTS.connections };
  const limits: PerfLimits = {
    maxRegression: p.max_regression ?? PERF_DEFAULTS.maxRegression,
    toleranceMs: parseDuration(p.tolerance, PERF_DEFAULTS.toleranceMs),
    maxErrorRate: p.max_error_rate ?? PERF_DEFAULTS.maxErrorRate,
  };
  const baseline = r.store.perfSamples(r.run.stack, r.stage.name, { passedOnly: true, limit: p.baseline_runs ?? PERF_DEFAULTS.baselineRuns, before: r.run.id });
  const judge = (m: LoadResult): PerfVerdict => judgePerf({ requests: m.sent, failures: m.failures, p95: gateFigure(m) }, baseline.map((b) => b.gateP95), limits);

  r.io.log(`load: ${spec.rate} req/s for ${spec.durationMs} ms on ${spec.connections} connections to ${url}`);
  const first = await measure(r, spec, 'result');
  if (r.io.signal.aborted) return { status: 'cancelled', detail: 'cancelled during the load' };
  if (!first) return interrupted(r);
  let m = first;
  let verdict = judge(first);
  let confirmed = '';
  const latencyOnly = !verdict.passed && verdict.baselineP95 !== null && first.failures / Math.max(1, first.sent) <= limits.maxErrorRate;
  if (latencyOnly && (p.confirm ?? PERF_DEFAULTS.confirm) > 0) {
    r.io.log(`${numbers(first)}; ${verdict.reason}; measuring once more before judging`);
    const second = await measure(r, spec, 'confirmation');
    if (r.io.signal.aborted) return { status: 'cancelled', detail: 'cancelled during the confirming load' };
    if (!second) return interrupted(r);
    const again = judge(second);
    confirmed = again.passed ? `; the first load's p95 was ${gateFigure(first)} ms (a regression), this second load's is not` : `; confirmed by a second load (p95 ${gateFigure(second)} ms)`;
    if (again.passed || gateFigure(second) < gateFigure(first)) (m = second), (verdict = again);
  }
  r.store.recordPerf(r.run.stack, { runId: r.run.id, stage: r.stage.name, commit: r.run.commit.sha, passed: verdict.passed, requests: m.sent, failures: m.failures, rps: m.rps, p50: m.p50, p95: m.p95, p99: m.p99, gateP95: gateFigure(m), at: new Date().toISOString() });
  r.save({ judged: m === first ? 'result' : 'confirmation', baselineP95: verdict.baselineP95, baselineRuns: verdict.baselineRuns });
  const windows = m.windows ? `, windowed p95 ${m.steadyP95} ms over ${m.windows} windows` : '';
  r.io.log(`${numbers(m)}${windows}; ${verdict.reason}${confirmed}`);
  return { status: verdict.passed ? 'succeeded' : 'failed', detail: `${verdict.reason}${confirmed} (${numbers(m)}${windows})` };
};
