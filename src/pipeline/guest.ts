import type { AgentGuest } from '../agent/guest.js';
import { SymphonyError } from '../errors.js';
import { PipelineEngine, type RunRequest } from './engine.js';

const RUN = '(run-\\d+)';

function decisionBody(body: unknown): { by: string; reason?: string } {
  const b = (body ?? {}) as { by?: unknown; reason?: unknown };
  if (typeof b.by !== 'string' || !b.by) throw new SymphonyError('a decision needs the reviewer', 'pass --as <name>');
  return { by: b.by, reason: typeof b.reason === 'string' ? b.reason : undefined };
}

/** The pipeline as a guest of the agent: its API under /v1/pipeline, its runs resumed at start. */
export function pipelineGuest(): AgentGuest {
  let engine: PipelineEngine | null = null;
  const e = (): PipelineEngine => {
    if (!engine) throw new SymphonyError('the pipeline is not started yet', 'try again in a moment');
    return engine;
  };
  return {
    name: 'pipeline',
    start(ctx) {
      engine = new PipelineEngine(ctx);
      engine.resumeAll();
    },
    async stop() {
      await engine?.stop();
    },
    routes: [
      { method: 'POST', pattern: /^\/v1\/pipeline\/runs$/, handler: async (_m, _r, body) => ({ run: await e().submit(body as RunRequest) }) },
      {
        method: 'GET',
        pattern: /^\/v1\/pipeline\/runs$/,
        handler: async (_m, _r, _b, url) => ({ runs: e().store.runs({ stack: url.searchParams.get('stack') ?? undefined, limit: Number(url.searchParams.get('limit') ?? 20) }) }),
      },
      { method: 'GET', pattern: new RegExp(`^/v1/pipeline/runs/${RUN}$`), handler: async (m) => ({ run: e().get(m[1]) }) },
      { method: 'POST', pattern: new RegExp(`^/v1/pipeline/runs/${RUN}/approve$`), handler: async (m, _r, body) => ({ run: await e().decide(m[1], { decision: 'approve', ...decisionBody(body) }) }) },
      { method: 'POST', pattern: new RegExp(`^/v1/pipeline/runs/${RUN}/reject$`), handler: async (m, _r, body) => ({ run: await e().decide(m[1], { decision: 'reject', ...decisionBody(body) }) }) },
      { method: 'POST', pattern: new RegExp(`^/v1/pipeline/runs/${RUN}/cancel$`), handler: async (m) => ({ run: e().cancel(m[1]) }) },
      {
        method: 'GET',
        pattern: /^\/v1\/pipeline\/perf$/,
        handler: async (_m, _r, _b, url) => ({ samples: e().store.perfSamples(url.searchParams.get('stack') ?? '', url.searchParams.get('stage') ?? '', { limit: 50 }) }),
      },
    ],
  };
}
