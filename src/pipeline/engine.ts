import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestContext } from '../agent/guest.js';
import { failpoint } from '../apply/runner.js';
import type { BuiltApps } from '../cli/planning.js';
import { describeError, NotFoundError, SymphonyError } from '../errors.js';
import { loadStack, type LoadedStack } from '../spec/index.js';
import { checkDecision } from './approvals.js';
import { buildApps, buildsDirOf } from './build.js';
import { exportTree, fileInCommit, resolveCommit, treeDirOf } from './git.js';
import { notify } from './notify.js';
import { decideQueue } from './queue.js';
import { fileLog, type StageIo } from './shell.js';
import { stageKind, type StageConfig } from './spec.js';
import { EXECUTORS } from './stages/index.js';
import type { Decision, StageResult, StageRun } from './stages/types.js';
import { PipelineStore } from './store.js';
import { RUN_ENDED, type RunRecord, type RunStatus, type StageRecord } from './types.js';

export interface RunRequest {
  repo: string;
  stackPath: string;
  ref?: string;
  requester?: string;
}

export const logFileOf = (stateDir: string, runId: string, stage: Pick<StageRecord, 'seq' | 'name'>): string => join(stateDir, 'pipeline', 'logs', runId, `${stage.seq}-${stage.name}.log`);

/** The commit's tree and its stack file (validated, base environment). */
async function commitStack(stateDir: string, repo: string, sha: string, stackPath: string): Promise<{ treeDir: string; stackFile: string; stack: LoadedStack }> {
  const treeDir = treeDirOf(stateDir, sha);
  await exportTree(repo, sha, treeDir);
  const stackFile = join(treeDir, stackPath);
  return { treeDir, stackFile, stack: loadStack(stackFile) };
}

/**
 * Runs pipelines in the agent: one run at a time per stack, each stage
 * recorded before it starts and when it ends. A run found unfinished when the
 * agent starts is resumed: finished stages are not run again, and a stage
 * that was running is resumed (deploy, approve) or failed (commands).
 */
export class PipelineEngine {
  readonly store: PipelineStore;
  private readonly active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly waiters = new Map<string, (d: Decision | null) => void>();
  private stopping = false;

  constructor(private readonly host: GuestContext) {
    this.store = new PipelineStore(host.deps.store);
  }

  async submit(req: RunRequest): Promise<RunRecord> {
    const commit = await resolveCommit(req.repo, req.ref ?? 'HEAD');
    if (!(await fileInCommit(req.repo, commit.sha, req.stackPath))) {
      throw new SymphonyError(`commit ${commit.sha.slice(0, 12)} has no ${req.stackPath}: a run uses the committed stack file`, `commit it: git -C ${req.repo} add ${req.stackPath} && git commit`);
    }
    const { stack } = await commitStack(this.host.deps.stateDir, req.repo, commit.sha, req.stackPath);
    if (!stack.pipeline) throw new SymphonyError(`${req.stackPath} at ${commit.sha.slice(0, 12)} has no pipeline: section`, 'add pipeline.stages to the stack file, commit, and run again');
    const stages = [{ name: 'build', kind: 'build' }, ...stack.pipeline.stages.map((s) => ({ name: s.name, kind: stageKind(s) }))];
    const run = this.store.createRun({ stack: stack.name, repo: req.repo, stackPath: req.stackPath, commit, requester: req.requester ?? 'cli', stages });
    void notify(stack.pipeline.notify, run, 'queued', null, this.host.deps.log);
    this.pump(stack.name);
    return this.store.run(run.id)!;
  }

  /** On agent start: resume runs that were running or waiting, then start what is queued. */
  resumeAll(): void {
    const unfinished = this.store.runs({ status: ['running', 'waiting'] }).reverse();
    for (const run of unfinished) this.start(run, true);
    for (const stack of new Set(this.store.runs({ status: ['queued'] }).map((r) => r.stack))) this.pump(stack);
  }

  get(id: string): RunRecord {
    const run = this.store.run(id);
    if (!run) throw new NotFoundError(`no pipeline run ${id}`, 'list runs with: symphony pipeline history');
    return run;
  }

  async decide(id: string, d: Omit<Decision, 'at'>): Promise<RunRecord> {
    const run = this.get(id);
    const stage = run.stages.find((s) => s.status === 'waiting');
    const cfg = stage ? (await this.stageConfigs(run)).get(stage.name) : undefined;
    checkDecision(run, cfg, d.by);
    const decision: Decision = { ...d, at: new Date().toISOString() };
    this.store.setStage(run.id, stage!.seq, { data: { decision } });
    this.waiters.get(run.id)?.(decision);
    return this.get(id);
  }

  cancel(id: string): RunRecord {
    const run = this.get(id);
    if (RUN_ENDED.has(run.status)) throw new SymphonyError(`${id} already ended (${run.status})`, 'start another with: symphony pipeline run');
    if (run.status === 'queued') this.end(run, 'cancelled', 'cancelled while queued', null);
    else {
      this.active.get(id)?.abort.abort();
      this.waiters.get(id)?.(null);
    }
    return this.get(id);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const a of this.active.values()) a.abort.abort();
    for (const w of this.waiters.values()) w(null);
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  private pump(stack: string): void {
    if (this.stopping) return;
    const unfinished = this.store.runs({ stack, status: ['queued', 'running', 'waiting'] }).reverse();
    const d = decideQueue(unfinished);
    for (const s of d.supersede) this.end(this.get(s.id), 'cancelled', `superseded by ${s.by}, a newer commit`, null);
    if (d.start) this.start(this.get(d.start), false);
  }

  private start(run: RunRecord, resumed: boolean): void {
    if (this.active.has(run.id)) return;
    const abort = new AbortController();
    const done = new Promise<void>((res) => setImmediate(res))
      .then(() => this.execute(run.id, abort.signal, resumed))
      .catch((err: unknown) => {
        this.host.deps.log.error({ run: run.id, err: describeError(err) }, 'pipeline run crashed');
        if (!this.stopping) this.end(this.get(run.id), 'failed', describeError(err).error, null);
      })
      .finally(() => {
        this.active.delete(run.id);
        this.pump(run.stack);
      });
    this.active.set(run.id, { abort, done });
  }

  private async stageConfigs(run: RunRecord): Promise<Map<string, StageConfig>> {
    const { stack } = await commitStack(this.host.deps.stateDir, run.repo, run.commit.sha, run.stackPath);
    return new Map((stack.pipeline?.stages ?? []).map((s) => [s.name, s]));
  }

  private async execute(id: string, signal: AbortSignal, resumedRun: boolean): Promise<void> {
    const { deps } = this.host;
    let run = this.get(id);
    const { treeDir, stackFile, stack } = await commitStack(deps.stateDir, run.repo, run.commit.sha, run.stackPath);
    const configs = new Map((stack.pipeline?.stages ?? []).map((s) => [s.name, s]));
    if (run.status === 'queued') {
      this.store.setRun(id, { status: 'running' });
      void notify(stack.pipeline?.notify, this.get(id), 'running', null, deps.log);
    }
    for (const stage of run.stages) {
      if (stage.status === 'succeeded') continue;
      if (signal.aborted) return this.end(this.get(id), this.stopping ? null : 'cancelled', `cancelled before ${stage.name}`, stack);
      const resumed = resumedRun && (stage.status === 'running' || stage.status === 'waiting');
      failpoint(deps, `pipeline:${stage.name}:before`);
      if (!resumed) this.store.setStage(id, stage.seq, { status: 'running', detail: null });
      if (this.get(id).status === 'waiting') this.store.setRun(id, { status: 'running' });
      run = this.get(id);
      const result = await this.runStage(run, run.stages[stage.seq], configs.get(stage.name), { stack, stackFile, treeDir, resumed, signal });
      if (this.stopping) return;
      failpoint(deps, `pipeline:${stage.name}`);
      this.store.setStage(id, stage.seq, { status: result.status === 'succeeded' ? 'succeeded' : 'failed', detail: result.detail });
      if (result.status !== 'succeeded') {
        const status: RunStatus = result.status === 'rejected' ? 'rejected' : result.status === 'cancelled' ? 'cancelled' : 'failed';
        return this.end(this.get(id), status, `${stage.name}: ${result.detail}`, stack);
      }
    }
    this.end(this.get(id), 'succeeded', null, stack);
  }

  private async runStage(run: RunRecord, stage: StageRecord, config: StageConfig | undefined, c: { stack: LoadedStack; stackFile: string; treeDir: string; resumed: boolean; signal: AbortSignal }): Promise<StageResult> {
    const { deps } = this.host;
    const logFile = logFileOf(deps.stateDir, run.id, stage);
    const io: StageIo = {
      stateDir: deps.stateDir,
      logFile,
      log: fileLog(logFile),
      signal: c.signal,
      onSpawn: (pid) => this.store.setStage(run.id, stage.seq, { data: { pid } }),
      env: { SYMPHONY_PIPELINE_RUN: run.id, SYMPHONY_COMMIT: run.commit.sha, SYMPHONY_STAGE: stage.name },
    };
    try {
      if (stage.kind === 'build') {
        const apps = c.stack.services.filter((s) => s.kind === 'app');
        if (c.resumed && !apps.every((s) => this.store.build(run.commit.sha, s.name))) return { status: 'failed', detail: 'interrupted: the agent stopped during the build; run the commit again' };
        const { built, ran } = await buildApps(io, c.stack, c.treeDir, run.commit.sha, this.store);
        this.store.setRun(run.id, { artifacts: Object.fromEntries(Object.entries(built).map(([s, b]) => [s, b.digest])) });
        return { status: 'succeeded', detail: Object.entries(built).map(([s, b]) => `${s} ${b.digest.slice(0, 12)}${ran.includes(s) ? ' (built)' : ''}`).join(', ') || 'no app services' };
      }
      if (!config) return { status: 'failed', detail: `stage ${stage.name} is not in the commit's stack file` };
      const built: BuiltApps = Object.fromEntries(Object.entries(run.artifacts).map(([s, d]) => [s, { dir: join(buildsDirOf(deps.stateDir), d), digest: d }]));
      for (const [s, b] of Object.entries(built)) if (!existsSync(b.dir)) return { status: 'failed', detail: `the build of ${s} (${b.digest.slice(0, 12)}) is gone; run the commit again` };
      const sr: StageRun = {
        io,
        run,
        stage,
        config,
        stack: c.stack,
        stackFile: c.stackFile,
        treeDir: c.treeDir,
        built,
        host: this.host,
        store: this.store,
        resumed: c.resumed,
        save: (data) => this.store.setStage(run.id, stage.seq, { data }),
        markWaiting: (detail) => {
          const already = this.get(run.id).stages[stage.seq].status === 'waiting';
          this.store.setStage(run.id, stage.seq, { status: 'waiting', detail });
          this.store.setRun(run.id, { status: 'waiting' });
          // A resumed wait is the same wait: told once.
          if (!already) void notify(c.stack.pipeline?.notify, this.get(run.id), 'waiting', detail, deps.log);
        },
        waitDecision: (deadline) => this.waitDecision(run.id, deadline, c.signal),
      };
      return await EXECUTORS[stageKind(config)](sr);
    } catch (err) {
      const e = describeError(err);
      io.log(`failed: ${e.error}`);
      return { status: 'failed', detail: `${e.error}${e.hint ? ` (next: ${e.hint})` : ''}` };
    }
  }

  private waitDecision(id: string, deadline: number, signal: AbortSignal): Promise<Decision | null> {
    return new Promise((resolve) => {
      // setTimeout holds at most ~24.8 days; a longer wait re-arms.
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        timer = setTimeout(() => (Date.now() >= deadline ? finish(null) : arm()), Math.min(Math.max(0, deadline - Date.now()), 2 ** 31 - 1));
      };
      const finish = (d: Decision | null): void => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(d);
      };
      if (signal.aborted) return finish(null);
      this.waiters.set(id, finish);
      arm();
    });
  }

  /** End a run: later stages skipped, webhooks told. `status` null: the agent is stopping, leave the run to the next one. */
  private end(run: RunRecord, status: RunStatus | null, error: string | null, stack: LoadedStack | null): void {
    if (status === null) return;
    for (const s of run.stages) if (s.status === 'pending') this.store.setStage(run.id, s.seq, { status: 'skipped' });
    this.store.setRun(run.id, { status, error });
    const ended = this.get(run.id);
    this.host.deps.log.info({ run: run.id, status, error }, 'pipeline run ended');
    if (stack) void notify(stack.pipeline?.notify, ended, status, error, this.host.deps.log);
  }
}
