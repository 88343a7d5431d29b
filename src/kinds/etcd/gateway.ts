import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { SymphonyError } from '../../errors.js';
import type { ProbeResult } from '../../health/types.js';

/** An etcd member did not answer a request as expected. */
export class EtcdRequestError extends SymphonyError {
  override readonly code = 'etcd_request';
  constructor(readonly url: string, readonly detail: string, hint = 'check the member: symphony status, symphony logs <service>') {
    super(`etcd request ${url} failed: ${detail}`, hint);
  }
}

/**
 * One HTTP request over node:http (the agent runs these probes every tick;
 * node:http keeps undici out of the agent's memory). Resolves with the
 * response head; the whole exchange is bounded by `timeoutMs`.
 */
function send(url: string, body: string | null, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = body === null ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method: body === null ? 'GET' : 'POST', headers, signal: AbortSignal.timeout(timeoutMs) }, resolve);
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * JSON over etcd's HTTP gateway. 64-bit ids arrive as decimal strings and
 * stay strings. Throws EtcdRequestError on a transport error, timeout,
 * non-2xx status or a gateway error body.
 */
export async function etcdCall<T>(url: string, body: Record<string, unknown> | null, timeoutMs: number): Promise<T> {
  let status: number;
  let text: string;
  try {
    const res = await send(url, body === null ? null : JSON.stringify(body), timeoutMs);
    status = res.statusCode ?? 0;
    text = await readText(res);
  } catch (err) {
    const e = err as { code?: string; message?: string; name?: string };
    throw new EtcdRequestError(url, e.code ?? e.name ?? e.message ?? String(err));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new EtcdRequestError(url, `HTTP ${status}, not JSON: ${text.slice(0, 200)}`);
  }
  const maybeError = parsed as { error?: unknown; message?: unknown };
  if (status < 200 || status >= 300 || (typeof maybeError.error === 'string' && maybeError.error !== '')) {
    const msg = typeof maybeError.message === 'string' ? maybeError.message : typeof maybeError.error === 'string' ? maybeError.error : text.slice(0, 200);
    throw new EtcdRequestError(url, `HTTP ${status}: ${msg}`);
  }
  return parsed as T;
}

const PROBE_TIMEOUT_MS = 1_000;

/** GET /health of one member: ok when the member is up and sees a leader. */
export async function probeMember(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  try {
    const body = await etcdCall<{ health?: unknown; reason?: unknown }>(`${url}/health`, null, timeoutMs);
    const ok = body.health === 'true' || body.health === true;
    return { ok, detail: ok ? 'healthy' : `unhealthy${typeof body.reason === 'string' && body.reason ? `: ${body.reason}` : ''}` };
  } catch (err) {
    return { ok: false, detail: err instanceof EtcdRequestError ? err.detail : String(err) };
  }
}

interface SnapshotChunk {
  result?: { blob?: string; remainingBytes?: string };
  error?: { message?: string };
}

/**
 * Stream a member's snapshot from `POST /v3/maintenance/snapshot` into `path`:
 * written to `<path>.part`, checked against the SHA-256 etcd appends to every
 * snapshot, fsynced, then renamed. The file is what `etcdctl snapshot save`
 * writes and `etcdctl snapshot restore` reads.
 */
export async function saveSnapshot(url: string, path: string, timeoutMs: number): Promise<number> {
  const endpoint = `${url}/v3/maintenance/snapshot`;
  mkdirSync(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const fd = openSync(part, 'w');
  const hash = createHash('sha256');
  let tail = Buffer.alloc(0);
  let size = 0;
  try {
    const res = await send(endpoint, '{}', timeoutMs);
    if (res.statusCode !== 200) throw new EtcdRequestError(endpoint, `HTTP ${res.statusCode}: ${(await readText(res)).slice(0, 200)}`);
    let pending = '';
    const take = (line: string): void => {
      if (line.trim() === '') return;
      const chunk = JSON.parse(line) as SnapshotChunk;
      if (chunk.error) throw new EtcdRequestError(endpoint, chunk.error.message ?? 'snapshot stream error');
      const bytes = Buffer.from(chunk.result?.blob ?? '', 'base64');
      // Hash everything but the last 32 bytes, which are etcd's own digest of the rest.
      const joined = Buffer.concat([tail, bytes]);
      const keep = Math.max(0, joined.length - 32);
      hash.update(joined.subarray(0, keep));
      tail = joined.subarray(keep);
      writeSync(fd, bytes);
      size += bytes.length;
    };
    for await (const data of res) {
      pending += (data as Buffer).toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    }
    take(pending);
    if (tail.length !== 32 || !hash.digest().equals(tail)) throw new EtcdRequestError(endpoint, `snapshot of ${size} bytes failed its SHA-256 check`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(part, { force: true });
    if (err instanceof EtcdRequestError) throw err;
    throw new EtcdRequestError(endpoint, err instanceof Error ? err.message : String(err));
  }
  closeSync(fd);
  renameSync(part, path);
  return size;
}
