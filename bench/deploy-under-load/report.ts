import type { RouterStats } from '../../src/router/types.js';
import { formatTable } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { describeGroups, groupFailures, placeFailures, type FailureGroup, type PlacedFailure } from './analysis.js';
import { totals, type LoadShape, type PhaseCounts } from './load-client.js';
import type { Action } from './symphony.js';

/** Who did the releases of a phase. */
export type Tool = 'symphony' | 'pm2' | 'stop-start';

/** One phase as measured: the releases done, the load's counts, and where failures fell. */
export interface PhaseReport {
  phase: string;
  tool: Tool;
  actions: Action[];
  counts: PhaseCounts;
  placed: PlacedFailure[];
  groups: FailureGroup[];
  /** Router counters after the phase (Symphony phases only). */
  router: RouterStats | null;
  /** Router log and instance log lines, kept when a Symphony phase failed requests or stopped. */
  evidence: string | null;
  /** Why the phase stopped before all its releases were done; null when it completed. */
  error: string | null;
}

/** A phase that did not run, and why (e.g. a verb that has not landed yet). */
export interface SkippedPhase {
  phase: string;
  reason: string;
}

export function phaseReport(phase: string, tool: Tool, actions: Action[], counts: PhaseCounts, tailMs: number, router: RouterStats | null, evidence: string | null, error: string | null): PhaseReport {
  const placed = placeFailures(counts.failures, actions, tailMs);
  return { phase, tool, actions, counts, placed, groups: groupFailures(placed), router, evidence: totals(counts).failed > 0 || error || actions.some((a) => a.error) ? evidence : null, error };
}

/** The printed table: per phase, requests sent, failed, failure rate, achieved rate. */
export function table(phases: readonly PhaseReport[]): string {
  const rows = phases.map((p) => {
    const t = totals(p.counts);
    const durations = p.actions.map((a) => (a.endedAt - a.startedAt) / 1000).sort((a, b) => a - b);
    const medianAction = durations.length ? durations[Math.floor((durations.length - 1) / 2)] : null;
    const failedReleases = p.actions.filter((a) => a.error).length;
    return [p.error ? `${p.phase} (stopped)` : p.phase, failedReleases ? `${p.actions.length} (${failedReleases} failed)` : p.actions.length, t.sent, t.failed, t.non2xx, t.socketErrors, t.wrongAnswer, `${((100 * t.failed) / Math.max(1, t.sent)).toFixed(3)}%`, Math.round(t.rps), Object.keys(p.counts.versions).length, medianAction];
  });
  return formatTable(['phase', 'releases', 'sent', 'failed', 'non-2xx', 'socket err', 'wrong answer', 'fail rate', 'req/s', 'versions seen', 'release s (median)'], rows, 2);
}

/** Lines explaining stopped phases and the failure groups of every phase (of the failures kept), empty when nothing failed. */
export function failureLines(phases: readonly PhaseReport[]): string[] {
  return phases.flatMap((p) => {
    const failed = totals(p.counts).failed;
    const kept = p.placed.length;
    const stopped = p.error ? [`  ${p.phase}: stopped after ${p.actions.length} releases: ${p.error.split('\n')[0]}`] : [];
    const failedReleases = p.actions.filter((a) => a.error).map((a) => `  ${p.phase}: ${a.label} failed (old release kept serving): ${a.error!.split('\n')[0].slice(0, 300)}`);
    return [...stopped, ...failedReleases, ...describeGroups(p.phase, p.groups), ...(kept < failed ? [`  ${p.phase}: (placed the first ${kept} of ${failed} failures)`] : [])];
  });
}

/** The JSON written to bench/results/deploy-under-load.json. */
export function jsonResults(shape: LoadShape, phases: readonly PhaseReport[], skipped: readonly SkippedPhase[]): unknown {
  const symphonyFailed = phases.filter((p) => p.tool === 'symphony').reduce((n, p) => n + totals(p.counts).failed, 0);
  return {
    load: shape,
    target: 'zero failed requests (socket errors + non-2xx) in every Symphony phase',
    symphonyFailedRequests: symphonyFailed,
    failedReleases: phases.flatMap((p) => p.actions.filter((a) => a.error).map((a) => ({ phase: p.phase, release: a.label, error: a.error }))),
    targetMet: symphonyFailed === 0 && skipped.length === 0 && phases.every((p) => p.error === null),
    skipped,
    phases: phases.map((p) => {
      const t = totals(p.counts);
      return {
        phase: p.phase,
        tool: p.tool,
        error: p.error,
        releases: p.actions.length,
        sent: t.sent,
        failed: t.failed,
        non2xx: t.non2xx,
        socketErrors: t.socketErrors,
        wrongAnswer: t.wrongAnswer,
        failureRatePercent: round((100 * t.failed) / Math.max(1, t.sent), 4),
        rps: round(t.rps, 1),
        seconds: round(t.seconds, 1),
        byClass: p.counts.byClass,
        failureKinds: p.counts.failureKinds,
        versions: p.counts.versions,
        releaseSeconds: p.actions.map((a) => round((a.endedAt - a.startedAt) / 1000, 2)),
        actions: p.actions.map((a) => ({
          label: a.label,
          error: a.error ?? null,
          operation: a.operation,
          startedAt: new Date(a.startedAt).toISOString(),
          ms: a.endedAt - a.startedAt,
          steps: a.steps.map((s) => ({ name: s.name, ms: s.startedAt !== null && s.endedAt !== null ? s.endedAt - s.startedAt : null, atMs: s.startedAt !== null ? s.startedAt - a.startedAt : null })),
        })),
        failureGroups: p.groups,
        failures: p.placed.slice(0, 200),
        router: p.router,
        evidence: p.evidence,
      };
    }),
  };
}
