import type { StageKind } from '../spec.js';
import { approveStage } from './approve.js';
import { deployStage } from './deploy.js';
import { perfStage } from './perf.js';
import { rehearseStage } from './rehearse.js';
import { runStage } from './run.js';
import type { StageExecutor } from './types.js';

/** One executor per stage kind. */
export const EXECUTORS: Record<StageKind, StageExecutor> = { run: runStage, deploy: deployStage, perf: perfStage, approve: approveStage, rehearse: rehearseStage };
