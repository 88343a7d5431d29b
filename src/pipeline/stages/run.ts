import { resolve } from 'node:path';
import { parseDuration } from '../../util/duration.js';
import { runLogged } from '../shell.js';
import { interrupted, type StageExecutor, type StageResult } from './types.js';

/** `run:` a shell command in the commit's tree; exit code 0 passes. */
export const runStage: StageExecutor = async (r) => {
  const command = r.config.run as string;
  const recorded = r.stage.data.exit as { code: number | null; signal: string | null; timedOut: boolean; ms: number } | undefined;
  if (r.resumed && !recorded) return interrupted(r);
  if (recorded) return verdict(r.run.id, r.stage.name, command, recorded);
  const cwd = resolve(r.stack.dir, r.config.dir ?? '.');
  const timeoutMs = parseDuration(r.config.timeout, 30 * 60_000);
  r.io.log(`$ ${command}  (in ${cwd})`);
  const started = Date.now();
  const x = await runLogged(r.io, command, cwd, timeoutMs);
  if (r.io.signal.aborted) return { status: 'cancelled', detail: `cancelled after ${((Date.now() - started) / 1000).toFixed(1)} s` };
  // Recorded before the stage ends: an agent that dies now resumes with the exit code, not a second run.
  const exit = { ...x, ms: Date.now() - started };
  r.save({ exit });
  return verdict(r.run.id, r.stage.name, command, exit);
};

function verdict(run: string, stage: string, command: string, x: { code: number | null; signal: string | null; timedOut: boolean; ms: number }): StageResult {
  const took = `${(x.ms / 1000).toFixed(1)} s`;
  if (x.timedOut) return { status: 'failed', detail: `timed out after ${took}: ${command}` };
  if (x.code !== 0) return { status: 'failed', detail: `${command} ${x.code === null ? `was killed (${x.signal})` : `exited with ${x.code}`} after ${took}; see: symphony pipeline logs ${run} ${stage}` };
  return { status: 'succeeded', detail: `${command} passed in ${took}` };
}
