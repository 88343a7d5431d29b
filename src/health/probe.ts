import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { baseEnv } from '../runtime/process/launch.js';
import { sh } from '../util/exec.js';
import type { HealthCheck, ProbeResult, ProbeTarget } from './types.js';

/**
 * Probe an instance once with every probe its check names (all must pass).
 * Never throws: a failure is a result whose detail says why (status code,
 * ECONNREFUSED, exit code and last stderr line, timeout).
 */
export async function probeOnce(check: HealthCheck, target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  const results: ProbeResult[] = [];
  if (check.http !== undefined) results.push(await probeHttp(check.http, target, check.timeoutMs, signal));
  if (check.tcp) results.push(await probeTcp(target, check.timeoutMs));
  if (check.exec !== undefined) results.push(await probeExec(check.exec, target, check.timeoutMs));
  if (results.length === 0) return { ok: true, detail: 'no probe configured' };
  const failed = results.find((r) => !r.ok);
  return failed ?? { ok: true, detail: results.map((r) => r.detail).join('; ') };
}

function hostPort(target: ProbeTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}`;
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return e.name;
  if (typeof e.code === 'string') return e.code;
  if (typeof e.cause?.code === 'string') return e.cause.code;
  return e.message ?? String(err);
}

const CODE_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  UND_ERR_SOCKET: 'connection closed before a response',
};

function failure(what: string, err: unknown, timeoutMs: number): ProbeResult {
  const code = errorCode(err);
  if (code === 'AbortError') return { ok: false, detail: `${what}: aborted` };
  if (code === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ok: false, detail: `${what}: no answer within ${timeoutMs} ms` };
  }
  const text = CODE_TEXT[code];
  return { ok: false, detail: `${what}: ${text ? `${text} (${code})` : code}` };
}

async function probeHttp(path: string, target: ProbeTarget, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  if (target.port === undefined) return { ok: false, detail: `http ${path}: the instance has no port to probe` };
  const url = `http://${hostPort(target)}${path}`;
  const what = `GET ${url}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  // node:http, not undici: the agent probes constantly and should stay small.
  return new Promise<ProbeResult>((resolve) => {
    const req = httpRequest(url, { method: 'GET', agent: false, signal: signal ? AbortSignal.any([signal, timeout]) : timeout }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400, detail: `${what}: ${res.statusCode}` }));
      res.on('error', (err) => resolve(failure(what, err, timeoutMs)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(failure(what, err.name === 'AbortError' ? { code: timeout.aborted ? 'TimeoutError' : 'AbortError' } : err, timeoutMs)));
    req.end();
  });
}

function probeTcp(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  if (target.port === undefined) return Promise.resolve({ ok: false, detail: 'tcp: the instance has no port to probe' });
  const what = `tcp ${hostPort(target)}`;
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port as number });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `${what}: no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, detail: `${what}: connected` }));
    socket.once('error', (err) => done(failure(what, err, timeoutMs)));
  });
}

async function probeExec(command: string, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const what = `exec ${JSON.stringify(command)}`;
  try {
    const env = { ...baseEnv(), ...target.env };
    if (target.port !== undefined) env.PORT = String(target.port);
    const res = await sh(command, { cwd: target.cwd, env, timeoutMs });
    if (res.code === 0) return { ok: true, detail: `${what}: exit 0` };
    if (res.code === null) {
      const timedOut = res.signal === 'SIGKILL';
      return { ok: false, detail: `${what}: ${timedOut ? `no answer within ${timeoutMs} ms` : `killed by ${res.signal}`}` };
    }
    const lastLine = res.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, detail: `${what}: exit code ${res.code}${lastLine ? `: ${lastLine}` : ''}` };
  } catch (err) {
    return failure(what, err, timeoutMs);
  }
}
