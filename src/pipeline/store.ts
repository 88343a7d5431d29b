import { now, parseJson, type Db } from '../state/db.js';
import type { StateStore } from '../state/store.js';
import type { CommitInfo, PerfSample, RunRecord, RunStatus, StageData, StageRecord, StageStatus } from './types.js';

/** The pipeline's tables live in the state database beside the journal; made on first use. */
const TABLES = `
CREATE TABLE IF NOT EXISTS pipeline_runs (
  n INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL, repo TEXT NOT NULL, stack_path TEXT NOT NULL,
  commit_info TEXT NOT NULL, status TEXT NOT NULL, error TEXT, artifacts TEXT NOT NULL DEFAULT '{}',
  requester TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT
);
CREATE TABLE IF NOT EXISTS pipeline_stages (
  run INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
  detail TEXT, data TEXT NOT NULL DEFAULT '{}', started_at TEXT, ended_at TEXT,
  PRIMARY KEY (run, seq)
);
CREATE TABLE IF NOT EXISTS pipeline_builds (
  commit_sha TEXT NOT NULL, service TEXT NOT NULL, digest TEXT NOT NULL, built_at TEXT NOT NULL,
  PRIMARY KEY (commit_sha, service)
);
CREATE TABLE IF NOT EXISTS pipeline_perf (
  run INTEGER NOT NULL, stage TEXT NOT NULL, stack TEXT NOT NULL, commit_sha TEXT NOT NULL, passed INTEGER NOT NULL,
  requests INTEGER NOT NULL, failures INTEGER NOT NULL, rps REAL NOT NULL,
  p50 REAL NOT NULL, p95 REAL NOT NULL, p99 REAL NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (run, stage)
);
CREATE TABLE IF NOT EXISTS pipeline_releases (
  release TEXT PRIMARY KEY, env TEXT NOT NULL, service TEXT NOT NULL, run INTEGER NOT NULL,
  commit_sha TEXT NOT NULL, artifact TEXT NOT NULL, at TEXT NOT NULL
);
`;

type Row = Record<string, unknown>;
const runNumber = (id: string): number => Number(/^run-(\d+)$/.exec(id)?.[1] ?? NaN);

/** Runs, their stages, builds by commit and perf samples. */
export class PipelineStore {
  private readonly db: Db;
  constructor(store: StateStore) {
    this.db = store.db;
    this.db.exec(TABLES);
    // Added with the windowed gate figure; older state databases get the column, their rows judged by p95.
    const cols = this.db.prepare(`SELECT name FROM pragma_table_info('pipeline_perf')`).pluck().all() as string[];
    if (!cols.includes('gate_p95')) this.db.exec(`ALTER TABLE pipeline_perf ADD COLUMN gate_p95 REAL`);
  }

  createRun(r: { stack: string; repo: string; stackPath: string; commit: CommitInfo; requester: string; stages: Array<{ name: string; kind: string }> }): RunRecord {
    const n = this.db.transaction(() => {
      const info = this.db
        .prepare(`INSERT INTO pipeline_runs (stack, repo, stack_path, commit_info, status, requester, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`)
        .run(r.stack, r.repo, r.stackPath, JSON.stringify(r.commit), r.requester, now());
      const ins = this.db.prepare(`INSERT INTO pipeline_stages (run, seq, name, kind, status) VALUES (?, ?, ?, ?, 'pending')`);
      r.stages.forEach((s, seq) => ins.run(info.lastInsertRowid, seq, s.name, s.kind));
      return Number(info.lastInsertRowid);
    })();
    return this.run(`run-${n}`)!;
  }

  run(id: string): RunRecord | null {
    const r = this.db.prepare(`SELECT * FROM pipeline_runs WHERE n = ?`).get(runNumber(id)) as Row | undefined;
    return r ? this.toRun(r) : null;
  }

  /** Newest first. */
  runs(filter: { stack?: string; status?: RunStatus[]; limit?: number } = {}): RunRecord[] {
    const rows = this.db.prepare(`SELECT * FROM pipeline_runs ORDER BY n DESC LIMIT ?`).all(filter.limit ?? 1_000_000) as Row[];
    return rows
      .map((r) => this.toRun(r))
      .filter((r) => (filter.stack ? r.stack === filter.stack : true))
      .filter((r) => (filter.status ? filter.status.includes(r.status) : true));
  }

  setRun(id: string, patch: { status?: RunStatus; error?: string | null; artifacts?: Record<string, string> }): void {
    const at = now();
    const ended = patch.status && ['succeeded', 'failed', 'rejected', 'cancelled'].includes(patch.status);
    this.db
      .prepare(
        `UPDATE pipeline_runs SET status = COALESCE(@status, status), error = CASE WHEN @setError THEN @error ELSE error END,
           artifacts = COALESCE(@artifacts, artifacts),
           started_at = CASE WHEN @status = 'running' AND started_at IS NULL THEN @at ELSE started_at END,
           finished_at = CASE WHEN @ended THEN @at ELSE finished_at END
         WHERE n = @n`,
      )
      .run({ n: runNumber(id), status: patch.status ?? null, setError: patch.error !== undefined ? 1 : 0, error: patch.error ?? null, artifacts: patch.artifacts ? JSON.stringify(patch.artifacts) : null, ended: ended ? 1 : 0, at });
  }

  setStage(id: string, seq: number, patch: { status?: StageStatus; detail?: string | null; data?: StageData }): void {
    const at = now();
    this.db
      .prepare(
        `UPDATE pipeline_stages SET status = COALESCE(@status, status), detail = CASE WHEN @setDetail THEN @detail ELSE detail END,
           data = CASE WHEN @data IS NULL THEN data ELSE json_patch(data, @data) END,
           started_at = CASE WHEN @status = 'running' AND started_at IS NULL THEN @at ELSE started_at END,
           ended_at = CASE WHEN @status IN ('succeeded', 'failed', 'skipped') THEN @at ELSE ended_at END
         WHERE run = @n AND seq = @seq`,
      )
      .run({ n: runNumber(id), seq, status: patch.status ?? null, setDetail: patch.detail !== undefined ? 1 : 0, detail: patch.detail ?? null, data: patch.data ? JSON.stringify(patch.data) : null, at });
  }

  build(commit: string, service: string): string | null {
    return (this.db.prepare(`SELECT digest FROM pipeline_builds WHERE commit_sha = ? AND service = ?`).pluck().get(commit, service) as string | undefined) ?? null;
  }

  recordBuild(commit: string, service: string, digest: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO pipeline_builds (commit_sha, service, digest, built_at) VALUES (?, ?, ?, ?)`).run(commit, service, digest, now());
  }

  recordPerf(stack: string, s: PerfSample): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO pipeline_perf (run, stage, stack, commit_sha, passed, requests, failures, rps, p50, p95, p99, gate_p95, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(runNumber(s.runId), s.stage, stack, s.commit, s.passed ? 1 : 0, s.requests, s.failures, s.rps, s.p50, s.p95, s.p99, s.gateP95, s.at);
  }

  /** Samples of a stack's perf stage, newest first. */
  perfSamples(stack: string, stage: string, opts: { passedOnly?: boolean; limit?: number; before?: string } = {}): PerfSample[] {
    const rows = this.db
      .prepare(`SELECT * FROM pipeline_perf WHERE stack = ? AND stage = ? AND (? = 0 OR passed = 1) AND run < ? ORDER BY run DESC LIMIT ?`)
      .all(stack, stage, opts.passedOnly ? 1 : 0, opts.before ? runNumber(opts.before) : Number.MAX_SAFE_INTEGER, opts.limit ?? 1000) as Row[];
    return rows.map((r) => ({
      runId: `run-${r.run as number}`,
      stage: r.stage as string,
      commit: r.commit_sha as string,
      passed: r.passed === 1,
      requests: r.requests as number,
      failures: r.failures as number,
      rps: r.rps as number,
      p50: r.p50 as number,
      p95: r.p95 as number,
      p99: r.p99 as number,
      gateP95: (r.gate_p95 as number | null) ?? (r.p95 as number),
      at: r.at as string,
    }));
  }

  /** Which commit (and run) each release a deploy stage made came from. */
  recordReleases(env: string, runId: string, commit: string, releases: Array<{ id: string; service: string; artifact: string }>): void {
    const ins = this.db.prepare(`INSERT OR IGNORE INTO pipeline_releases (release, env, service, run, commit_sha, artifact, at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    for (const r of releases) ins.run(r.id, env, r.service, runNumber(runId), commit, r.artifact, now());
  }

  /** Release id -> the commit and run it was delivered from. */
  releaseOrigins(env: string): Map<string, { commit: string; run: string; artifact: string }> {
    const rows = this.db.prepare(`SELECT release, run, commit_sha, artifact FROM pipeline_releases WHERE env = ?`).all(env) as Row[];
    return new Map(rows.map((r) => [r.release as string, { commit: r.commit_sha as string, run: `run-${r.run as number}`, artifact: r.artifact as string }]));
  }

  private toRun(r: Row): RunRecord {
    const stages = (this.db.prepare(`SELECT * FROM pipeline_stages WHERE run = ? ORDER BY seq`).all(r.n) as Row[]).map(
      (s): StageRecord => ({
        seq: s.seq as number,
        name: s.name as string,
        kind: s.kind as string,
        status: s.status as StageStatus,
        detail: (s.detail as string | null) ?? null,
        data: parseJson<StageData>(s.data as string),
        startedAt: (s.started_at as string | null) ?? null,
        endedAt: (s.ended_at as string | null) ?? null,
      }),
    );
    return {
      id: `run-${r.n as number}`,
      stack: r.stack as string,
      repo: r.repo as string,
      stackPath: r.stack_path as string,
      commit: parseJson<CommitInfo>(r.commit_info as string),
      status: r.status as RunStatus,
      error: (r.error as string | null) ?? null,
      artifacts: parseJson<Record<string, string>>(r.artifacts as string),
      requester: r.requester as string,
      createdAt: r.created_at as string,
      startedAt: (r.started_at as string | null) ?? null,
      finishedAt: (r.finished_at as string | null) ?? null,
      stages,
    };
  }
}
