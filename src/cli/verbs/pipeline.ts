import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { SymphonyError } from '../../errors.js';
import { logFileOf } from '../../pipeline/engine.js';
import { repoOf } from '../../pipeline/git.js';
import { RUN_ENDED, type PerfSample, type RunRecord } from '../../pipeline/types.js';
import { ensureAgent, type AgentClient } from '../agent-client.js';
import { action, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { renderHistory, renderRun, runView } from '../pipeline-view.js';
import { registerPipelineWatch } from './pipeline-watch.js';

interface RunOptions extends GlobalOptions {
  ref?: string;
  wait?: boolean;
  as?: string;
  reason?: string;
  follow?: boolean;
}

const getRun = async (c: AgentClient, id: string): Promise<RunRecord> => (await c.call<{ run: RunRecord }>('GET', `/v1/pipeline/runs/${id}`)).run;

async function latestRun(c: AgentClient): Promise<RunRecord> {
  const { runs } = await c.call<{ runs: RunRecord[] }>('GET', '/v1/pipeline/runs?limit=1');
  if (!runs[0]) throw new SymphonyError('no pipeline run yet', 'start one with: symphony pipeline run');
  return runs[0];
}

/** Poll a run until it ends or waits for someone; stage changes go to stderr. A dead agent is restarted (it resumes the run). */
export async function waitRun(stateDir: string, client: AgentClient, id: string, quiet = false): Promise<RunRecord> {
  const seen = new Map<string, string>();
  let c = client;
  let restarts = 0;
  for (;;) {
    let run: RunRecord;
    try {
      run = await getRun(c, id);
      restarts = 0;
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found' || restarts++ > 5) throw err;
      if (!quiet) process.stderr.write(`agent unreachable; restarting it to resume ${id}\n`);
      // The new agent may stop again before it answers (it resumes the run at once): try again.
      c = await ensureAgent(stateDir).catch(() => c);
      continue;
    }
    for (const s of run.stages) {
      const key = `${s.status}\0${s.detail ?? ''}`;
      if (seen.get(s.name) === key || s.status === 'pending') continue;
      seen.set(s.name, key);
      if (!quiet) process.stderr.write(`${s.status.padEnd(9)} ${s.name}${s.detail ? `: ${s.detail}` : ''}\n`);
    }
    if (RUN_ENDED.has(run.status) || run.status === 'waiting') return run;
    await sleep(300);
  }
}

const exitOf = (run: RunRecord): number => (run.status === 'succeeded' || run.status === 'waiting' || run.status === 'queued' || run.status === 'running' ? 0 : 1);

async function decide(verb: 'approve' | 'reject', id: string, o: RunOptions): Promise<number> {
  if (!o.as) throw new SymphonyError(`${verb} needs the reviewer's name`, `symphony pipeline ${verb} ${id} --as <name>`);
  const stateDir = stateDirOf(o);
  const c = await ensureAgent(stateDir);
  let { run } = await c.call<{ run: RunRecord }>('POST', `/v1/pipeline/runs/${id}/${verb}`, { by: o.as, reason: o.reason });
  if (o.wait) run = await waitRun(stateDir, c, id, o.json);
  await c.close();
  print(o, renderRun(run), runView(run));
  return exitOf(run);
}

function printLogs(stateDir: string, run: RunRecord, stage: string | undefined, offsets: Map<string, number>): void {
  const stages = run.stages.filter((s) => !stage || s.name === stage);
  if (stage && stages.length === 0) throw new SymphonyError(`${run.id} has no stage ${stage}`, `stages: ${run.stages.map((s) => s.name).join(', ')}`);
  for (const s of stages) {
    const file = logFileOf(stateDir, run.id, s);
    if (!existsSync(file)) continue;
    const from = offsets.get(file) ?? 0;
    const size = statSync(file).size;
    if (size <= from) continue;
    const buf = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    readSync(fd, buf, 0, buf.length, from);
    closeSync(fd);
    if (!offsets.has(file) && !stage) process.stdout.write(`==> ${s.name} <==\n`);
    offsets.set(file, size);
    process.stdout.write(buf.toString('utf8'));
  }
}

export function registerPipeline(program: Command): void {
  const p = program.command('pipeline').description('from a git commit to production: runs of the stack file\'s pipeline: stages');
  withCommon(p.command('run').description('start a run of a commit (default HEAD): its committed tree, never the working directory'))
    .option('--ref <rev>', 'commit, branch or tag', 'HEAD')
    .option('--wait', 'return when the run ends or waits for approval')
    .action(
      action(async (o: RunOptions) => {
        const stateDir = stateDirOf(o);
        const { repo, stackPath } = await repoOf(requireStack(o));
        const c = await ensureAgent(stateDir);
        let { run } = await c.call<{ run: RunRecord }>('POST', '/v1/pipeline/runs', { repo, stackPath, ref: o.ref, requester: 'symphony pipeline run' });
        if (!o.json) process.stderr.write(`${run.id} ${run.status} for ${run.commit.sha.slice(0, 12)} (${run.commit.subject}); follow it: symphony pipeline status ${run.id}\n`);
        if (o.wait) run = await waitRun(stateDir, c, run.id, false);
        await c.close();
        print(o, renderRun(run), runView(run));
        return exitOf(run);
      }),
    );
  withCommon(p.command('status [run]').description('a run and its stages (default: the latest)')).action(
    action(async (id: string | undefined, o: RunOptions) => {
      const c = await ensureAgent(stateDirOf(o));
      const run = id ? await getRun(c, id) : await latestRun(c);
      await c.close();
      print(o, renderRun(run), runView(run));
    }),
  );
  for (const verb of ['approve', 'reject'] as const) {
    withCommon(p.command(`${verb} <run>`).description(verb === 'approve' ? 'let a run waiting for approval go on' : 'end a run waiting for approval as rejected'))
      .option('--as <name>', 'the reviewer (one of the stage\'s reviewers)')
      .option('--reason <text>', 'why (recorded)')
      .option('--wait', 'return when the run ends or waits again')
      .action(action(async (id: string, o: RunOptions) => decide(verb, id, o)));
  }
  withCommon(p.command('cancel <run>').description('end a queued, running or waiting run; a deploy in progress finishes (or is undone) by itself')).action(
    action(async (id: string, o: RunOptions) => {
      const c = await ensureAgent(stateDirOf(o));
      const { run } = await c.call<{ run: RunRecord }>('POST', `/v1/pipeline/runs/${id}/cancel`);
      await c.close();
      print(o, renderRun(run), runView(run));
    }),
  );
  withCommon(p.command('history').description('recent runs, and the perf stages\' p95 trend')).action(
    action(async (o: RunOptions) => {
      const c = await ensureAgent(stateDirOf(o));
      const { runs } = await c.call<{ runs: RunRecord[] }>('GET', '/v1/pipeline/runs?limit=30');
      const trends = new Map<string, PerfSample[]>();
      for (const r of runs.slice(0, 1)) {
        for (const s of r.stages.filter((x) => x.kind === 'perf')) {
          trends.set(s.name, (await c.call<{ samples: PerfSample[] }>('GET', `/v1/pipeline/perf?stack=${encodeURIComponent(r.stack)}&stage=${encodeURIComponent(s.name)}`)).samples);
        }
      }
      await c.close();
      print(o, runs.length ? renderHistory(runs, trends) : 'no pipeline run yet; start one with: symphony pipeline run', { runs: runs.map(runView), perf: Object.fromEntries(trends) });
    }),
  );
  withCommon(p.command('logs <run> [stage]').description("a run's logs: every stage, or one"))
    .option('-F, --follow', 'keep printing until the run ends')
    .action(
      action(async (id: string, stage: string | undefined, o: RunOptions) => {
        const stateDir = stateDirOf(o);
        const c = await ensureAgent(stateDir);
        const offsets = new Map<string, number>();
        for (;;) {
          const run = await getRun(c, id);
          printLogs(stateDir, run, stage, offsets);
          if (!o.follow || RUN_ENDED.has(run.status)) break;
          await sleep(500);
        }
        if (offsets.size === 0 && !existsSync(join(stateDir, 'pipeline', 'logs', id))) process.stderr.write(`${id} has no logs yet\n`);
        await c.close();
      }),
    );
  registerPipelineWatch(p);
}
