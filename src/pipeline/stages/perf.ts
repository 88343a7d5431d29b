import { loadStack } from '../../spec/index.js';
import { parseDuration } from '../../util/duration.js';
import { loadInChild, type LoadResult } from '../load.js';
import { judgePerf, PERF_DEFAULTS } from '../verdict.js';
import { interrupted, type StageExecutor } from './types.js';

/**
 * `perf:` an open-loop load at `rate` for `duration` through the
 * environment's route to `to`, judged against the median p95 of the stage's
 * last passing runs (`judgePerf`). Every run's numbers are kept for the trend.
 */
export const perfStage: StageExecutor = async (r) => {
  const p = r.config.perf!;
  const recorded = r.stage.data.result as LoadResult | undefined;
  if (r.resumed && !recorded) return interrupted(r);
  const stack = loadStack(r.stackFile, { env: p.env === 'default' ? undefined : p.env });
  const route = stack.routes.find((x) => x.to === p.to);
  if (!route) return { status: 'failed', detail: `${p.env} has no route to ${p.to}: add one under environments.${p.env}.routes` };
  const url = `http://127.0.0.1:${route.listen}${p.path ?? '/'}`;
  const spec = { url, rate: p.rate ?? PERF_DEFAULTS.rate, durationMs: parseDuration(p.duration, PERF_DEFAULTS.durationMs), connections: p.connections ?? PERF_DEFAULTS.connections };
  r.io.log(`load: ${spec.rate} req/s for ${spec.durationMs} ms on ${spec.connections} connections to ${url}`);
  const m = recorded ?? (await loadInChild(spec, (pid) => r.save({ pid }), r.io.signal));
  if (r.io.signal.aborted) return { status: 'cancelled', detail: 'cancelled during the load' };
  r.save({ result: m });
  const baseline = r.store.perfSamples(r.run.stack, r.stage.name, { passedOnly: true, limit: p.baseline_runs ?? PERF_DEFAULTS.baselineRuns, before: r.run.id });
  const verdict = judgePerf({ requests: m.sent, failures: m.failures, p95: m.p95 }, baseline.map((b) => b.p95), {
    maxRegression: p.max_regression ?? PERF_DEFAULTS.maxRegression,
    toleranceMs: parseDuration(p.tolerance, PERF_DEFAULTS.toleranceMs),
    maxErrorRate: p.max_error_rate ?? PERF_DEFAULTS.maxErrorRate,
  });
  r.store.recordPerf(r.run.stack, { runId: r.run.id, stage: r.stage.name, commit: r.run.commit.sha, passed: verdict.passed, requests: m.sent, failures: m.failures, rps: m.rps, p50: m.p50, p95: m.p95, p99: m.p99, at: new Date().toISOString() });
  r.save({ baselineP95: verdict.baselineP95, baselineRuns: verdict.baselineRuns });
  const numbers = `${m.rps} req/s, ${m.failures}/${m.sent} failed, p50 ${m.p50} ms, p95 ${m.p95} ms, p99 ${m.p99} ms`;
  r.io.log(`${numbers}; ${verdict.reason}`);
  return { status: verdict.passed ? 'succeeded' : 'failed', detail: `${verdict.reason} (${numbers})` };
};
