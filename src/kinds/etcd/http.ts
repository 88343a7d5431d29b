import { request } from 'undici';
import type { ProbeResult } from '../../health/types.js';
import { EtcdRequestError } from './errors.js';

/**
 * JSON over etcd's HTTP gateway. 64-bit ids arrive as decimal strings and
 * stay strings. Throws EtcdRequestError on a transport error, timeout,
 * non-2xx status or a gateway error body.
 */
export async function etcdCall<T>(url: string, body: Record<string, unknown> | null, timeoutMs: number): Promise<T> {
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: body === null ? 'GET' : 'POST',
      body: body === null ? undefined : JSON.stringify(body),
      headers: body === null ? undefined : { 'content-type': 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.statusCode;
    text = await res.body.text();
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
