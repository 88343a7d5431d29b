/** Records of pipeline runs, as the engine, the agent's API and the CLI see them. */

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped';

export const RUN_ENDED: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'rejected', 'cancelled']);

/** The commit a run is for, read from the repository when the run was asked for. */
export interface CommitInfo {
  sha: string;
  /** The revision asked for (HEAD, a branch, a tag). */
  ref: string;
  authorName: string;
  authorEmail: string;
  subject: string;
}

export interface RunRecord {
  id: string;
  stack: string;
  /** Top directory of the git repository. */
  repo: string;
  /** The stack file, relative to the repository's top. */
  stackPath: string;
  commit: CommitInfo;
  status: RunStatus;
  /** Why the run ended other than succeeded. */
  error: string | null;
  /** App service -> artifact digest, once built. */
  artifacts: Record<string, string>;
  requester: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  stages: StageRecord[];
}

/** What a stage keeps: its kind's own data (operation id, load results, decision…). */
export type StageData = Record<string, unknown>;

export interface StageRecord {
  seq: number;
  name: string;
  kind: string;
  status: StageStatus;
  /** One line: what happened or why it failed. */
  detail: string | null;
  data: StageData;
  startedAt: string | null;
  endedAt: string | null;
}

/** One measured perf stage, kept per run for the baseline and the trend. */
export interface PerfSample {
  runId: string;
  stage: string;
  commit: string;
  passed: boolean;
  requests: number;
  failures: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** The figure the gate judged and later runs compare with (`steadyP95`). */
  gateP95: number;
  at: string;
}
