import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../util/log.js';
import type { PipelineConfig } from './spec.js';
import type { RunRecord, RunStatus } from './types.js';

export const DEFAULT_NOTIFY_ON: RunStatus[] = ['failed', 'waiting', 'succeeded'];

/** The JSON event a webhook receives. */
export function runEvent(run: RunRecord, status: RunStatus, detail: string | null): Record<string, unknown> {
  const stage = run.stages.find((s) => s.status === 'running' || s.status === 'waiting' || s.status === 'failed');
  return {
    event: `pipeline.run.${status}`,
    id: run.id,
    stack: run.stack,
    status,
    commit: { sha: run.commit.sha, ref: run.commit.ref, author: run.commit.authorName, subject: run.commit.subject },
    stage: stage ? { name: stage.name, status: stage.status } : null,
    detail,
    at: new Date().toISOString(),
  };
}

function post(url: string, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Post the event to every webhook that asked for this status; a failing receiver is logged, never fails the run. */
export async function notify(cfg: PipelineConfig['notify'], run: RunRecord, status: RunStatus, detail: string | null, log: Logger): Promise<void> {
  for (const n of cfg ?? []) {
    if (!(n.on ?? DEFAULT_NOTIFY_ON).includes(status)) continue;
    try {
      const code = await post(n.webhook, JSON.stringify(runEvent(run, status, detail)), 5_000);
      if (code >= 300) log.warn({ run: run.id, webhook: new URL(n.webhook).host, code }, 'webhook answered with an error status');
    } catch (err) {
      log.warn({ run: run.id, webhook: new URL(n.webhook).host, err: String(err) }, 'webhook post failed');
    }
  }
}
