import { z } from 'zod';
import type { Finding } from '../spec/issues.js';
import { Duration, Name } from '../spec/schema.js';

const STAGE_KINDS = ['run', 'deploy', 'perf', 'approve', 'rehearse'] as const;

/**
 * Built on first use: the stack schema (src/spec/schema.ts) includes this
 * section, and this section builds on its Duration and Name, so nothing here
 * may touch them while the modules are still being initialised.
 */
function pipelineSchema() {
  /** A share such as `20%` or a fraction such as 0.2. */
  const Share = z
    .union([z.number().min(0).max(10), z.string().regex(/^\d+(\.\d+)?%$/, 'must be a percentage such as 20%')], { error: 'must be a percentage such as 20% or a fraction such as 0.2' })
    .transform((v) => (typeof v === 'number' ? v : Number(v.slice(0, -1)) / 100));

  const PerfGateSpec = z.strictObject({
    env: Name.describe('environment whose route receives the load'),
    to: Name.describe('app service the route leads to'),
    path: z.string().startsWith('/', 'must be a path starting with /').optional().describe('request path (default /)'),
    rate: z.number().int().min(1).max(20_000).optional().describe('requests per second, open loop (default 100)'),
    duration: Duration.optional().describe('how long the load runs (default 30s)'),
    connections: z.number().int().min(1).max(256).optional().describe('keep-alive connections of the load (default 16)'),
    max_regression: Share.optional().describe('p95 may be this much worse than the baseline median (default 20%)'),
    tolerance: Duration.optional().describe('a p95 at most this much above the baseline always passes: noise (default 10ms)'),
    baseline_runs: z.number().int().min(1).max(50).optional().describe('passing runs whose median p95 is the baseline (default 5)'),
    max_error_rate: Share.optional().describe('largest share of failed requests (default 1%)'),
    confirm: z.number().int().min(0).max(3).optional().describe('loads run again before a latency regression stands; it stands only when every one regressed (default 1)'),
  });

  const ApproveSpec = z.strictObject({
    reviewers: z.array(z.string().min(1)).min(1).describe('who may approve or reject'),
    timeout: Duration.optional().describe('the run ends as rejected after this long (default 24h)'),
    prevent_self_review: z.boolean().optional().describe("refuse the commit's author as reviewer"),
  });

  const StageSpec = z
    .strictObject({
      name: Name.describe('stage name, unique in the pipeline'),
      run: z.string().min(1).optional().describe('shell command run in the commit; exit code 0 passes'),
      dir: z.string().min(1).optional().describe('run: working directory, relative to the stack file'),
      timeout: Duration.optional().describe('run: the stage fails after this long (default 30m)'),
      deploy: Name.optional().describe("apply the run's built releases to this environment"),
      perf: PerfGateSpec.optional().describe('load test gate against an environment'),
      approve: ApproveSpec.optional().describe('manual gate: symphony pipeline approve <run> --as <name>'),
      rehearse: Name.optional().describe("rehearse the run's change on a throwaway copy of this environment"),
    })
    .refine((s) => STAGE_KINDS.filter((k) => s[k] !== undefined).length === 1, { message: `must have exactly one of ${STAGE_KINDS.join(', ')}` });

  const NotifySpec = z.strictObject({
    webhook: z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL').describe('POST a JSON event here'),
    on: z.array(z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'rejected', 'cancelled'])).min(1).optional().describe('run statuses to post (default failed, waiting, succeeded)'),
  });

  const PipelineSpec = z
    .strictObject({
      stages: z.array(StageSpec).min(1).describe('run in order; a failed stage ends the run'),
      notify: z.array(NotifySpec).optional(),
    })
    .describe('From a git commit to production: `symphony pipeline run`');

  return PipelineSpec;
}

let built: ReturnType<typeof pipelineSchema> | null = null;

/** The `pipeline:` section of the stack file. */
export const PipelineSpec = z.lazy(() => (built ??= pipelineSchema()));

export type PipelineConfig = z.output<ReturnType<typeof pipelineSchema>>;
export type StageConfig = PipelineConfig['stages'][number];
export type StageKind = (typeof STAGE_KINDS)[number];

export function stageKind(s: StageConfig): StageKind {
  return STAGE_KINDS.find((k) => s[k] !== undefined) as StageKind;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks across sections: environments and services a stage names exist, stage names are unique. */
export function pipelineFindings(raw: Record<string, unknown>): Finding[] {
  const p = raw.pipeline;
  if (!isMap(p) || !Array.isArray(p.stages)) return [];
  const envs = new Set(['default', ...(isMap(raw.environments) ? Object.keys(raw.environments) : [])]);
  const services = isMap(raw.services) ? raw.services : {};
  const out: Finding[] = [];
  const seen = new Set<string>();
  const envProblem = (env: unknown, path: Array<string | number>): void => {
    if (typeof env === 'string' && !envs.has(env)) out.push({ path, message: `no environment named ${env}; environments: ${[...envs].join(', ')}` });
  };
  p.stages.forEach((s: unknown, i: number) => {
    if (!isMap(s)) return;
    if (typeof s.name === 'string') {
      if (seen.has(s.name)) out.push({ path: ['pipeline', 'stages', i, 'name'], message: `stage name ${s.name} is used twice; give each stage its own name` });
      seen.add(s.name);
    }
    envProblem(s.deploy, ['pipeline', 'stages', i, 'deploy']);
    envProblem(s.rehearse, ['pipeline', 'stages', i, 'rehearse']);
    if (isMap(s.perf)) {
      envProblem(s.perf.env, ['pipeline', 'stages', i, 'perf', 'env']);
      const to = s.perf.to;
      if (typeof to === 'string' && !(isMap(services[to]) && 'run' in services[to])) {
        out.push({ path: ['pipeline', 'stages', i, 'perf', 'to'], message: `must name an app service with a route; app services: ${Object.keys(services).filter((n) => isMap(services[n]) && 'run' in (services[n] as object)).join(', ') || 'none'}` });
      }
    }
  });
  return out;
}
