import { request } from 'node:http';
import { connect } from 'node:net';
import type { UpstreamRegistry, UpstreamState } from './upstreams.js';

/** Default time between active checks of each upstream. */
export const HEALTH_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;

/** One active check: GET healthPath (2xx/3xx is healthy) or a TCP connect. */
export function probeUpstream(u: UpstreamState): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      resolve({ ok, detail });
    };
    if (!u.healthPath) {
      const sock = connect({ host: u.host, port: u.port });
      sock.setTimeout(PROBE_TIMEOUT_MS, () => {
        sock.destroy();
        done(false, `tcp connect to ${u.key} timed out after ${PROBE_TIMEOUT_MS} ms`);
      });
      sock.once('connect', () => {
        sock.destroy();
        done(true, 'tcp connect ok');
      });
      sock.once('error', (err) => done(false, `tcp connect to ${u.key}: ${err.message}`));
      return;
    }
    const req = request({ host: u.host, port: u.port, path: u.healthPath, method: 'GET', agent: false, timeout: PROBE_TIMEOUT_MS });
    req.once('response', (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      done(code >= 200 && code < 400, `GET ${u.key}${u.healthPath} -> ${code}`);
    });
    req.once('timeout', () => {
      req.destroy();
      done(false, `GET ${u.key}${u.healthPath} timed out after ${PROBE_TIMEOUT_MS} ms`);
    });
    req.once('error', (err) => done(false, `GET ${u.key}${u.healthPath}: ${err.message}`));
    req.end();
  });
}

/** Checks every upstream of the current config on an interval; returns a stop function. */
export function startActiveHealth(registry: UpstreamRegistry, intervalMs = HEALTH_INTERVAL_MS): () => void {
  const tick = (): void => {
    registry.prune();
    for (const u of registry.current()) {
      if (u.probing) continue;
      u.probing = true;
      void probeUpstream(u).then((r) => {
        u.probing = false;
        u.recordProbe(r.ok, r.detail);
      });
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
