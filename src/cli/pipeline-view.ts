import type { PerfSample, RunRecord } from '../pipeline/types.js';

/** A run as `pipeline status --json` prints it (the contract: id, commit, status, stages[name, status, detail]). */
export function runView(run: RunRecord): Record<string, unknown> {
  return {
    id: run.id,
    commit: run.commit.sha,
    ref: run.commit.ref,
    author: run.commit.authorName,
    subject: run.commit.subject,
    status: run.status,
    error: run.error,
    artifacts: run.artifacts,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    stages: run.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      status: s.status,
      detail: s.detail,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      ...(s.data.operation ? { operation: s.data.operation } : {}),
      ...(s.data.result ? { perf: s.data[s.data.judged === 'confirmation' ? 'confirmation' : 'result'], baselineP95: s.data.baselineP95 ?? null } : {}),
      ...(s.data.confirmation ? { loads: [s.data.result, s.data.confirmation] } : {}),
      ...(s.data.decision ? { decision: s.data.decision } : {}),
    })),
  };
}

const MARK: Record<string, string> = { pending: '·', running: '▶', waiting: '⏸', succeeded: '✓', failed: '✗', skipped: '-' };

export function renderRun(run: RunRecord): string {
  const lines = [`${run.id}  ${run.status}  ${run.commit.sha.slice(0, 12)} (${run.commit.ref}) ${run.commit.subject} — ${run.commit.authorName}`];
  for (const s of run.stages) lines.push(`  ${MARK[s.status] ?? '?'} ${s.name.padEnd(14)} ${s.status.padEnd(9)} ${s.detail ?? ''}`.trimEnd());
  if (run.error) lines.push(`  ${run.status}: ${run.error}`);
  return lines.join('\n');
}

export function renderHistory(runs: RunRecord[], trends: Map<string, PerfSample[]>): string {
  const lines = runs.map((r) => `${r.id.padEnd(8)} ${r.status.padEnd(9)} ${r.commit.sha.slice(0, 12)} ${r.createdAt}  ${r.commit.subject}${r.error ? `  — ${r.error}` : ''}`);
  for (const [stage, samples] of trends) {
    if (samples.length === 0) continue;
    const trend = [...samples].reverse().map((s) => `${s.gateP95.toFixed(1)}${s.passed ? '' : '!'}`);
    lines.push('', `${stage} p95 ms, oldest first (! = failed the gate): ${trend.join(' ')}`);
  }
  return lines.join('\n');
}
