import type { GuestContext } from '../../agent/guest.js';
import type { BuiltApps } from '../../cli/planning.js';
import type { LoadedStack } from '../../spec/index.js';
import type { StageIo } from '../shell.js';
import type { StageConfig } from '../spec.js';
import type { PipelineStore } from '../store.js';
import type { RunRecord, StageData, StageRecord } from '../types.js';

export interface Decision {
  decision: 'approve' | 'reject';
  by: string;
  at: string;
  reason?: string;
}

/** Everything a stage may use while it runs. */
export interface StageRun {
  io: StageIo;
  run: RunRecord;
  stage: StageRecord;
  config: StageConfig;
  /** The stack file of the commit, base environment. */
  stack: LoadedStack;
  stackFile: string;
  treeDir: string;
  /** Artifacts the run built, by app service. */
  built: BuiltApps;
  host: GuestContext;
  store: PipelineStore;
  /** Merge into the stage's recorded data now (durable before the next await). */
  save(data: StageData): void;
  /** The stage (and the run) now wait for someone: status `waiting` with this detail. */
  markWaiting(detail: string): void;
  /** Resolves with the first decision recorded for the run, or null at the deadline. */
  waitDecision(deadline: number): Promise<Decision | null>;
  /** The stage was found running after an agent restart: resume it or fail it, never redo it blindly. */
  resumed: boolean;
}

export interface StageResult {
  status: 'succeeded' | 'failed' | 'rejected' | 'cancelled';
  detail: string;
}

export type StageExecutor = (r: StageRun) => Promise<StageResult>;

/** A stage whose command may have half-run when the agent died is failed, not run again. */
export function interrupted(r: StageRun): StageResult {
  const pid = r.stage.data.pid;
  if (typeof pid === 'number') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone with the agent */
    }
  }
  return { status: 'failed', detail: `interrupted: the agent stopped while this stage ran; it is not run twice. Run the commit again: symphony pipeline run --ref ${r.run.commit.sha.slice(0, 12)}` };
}
