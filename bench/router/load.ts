import autocannon from 'autocannon';
import { cpuSeconds } from './processes.js';

/** One load run against one target, with the CPU its proxy and the backend spent on it. */
export interface LoadResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU microseconds per request of the proxy process (and its workers); NaN for `direct`. */
  proxyCpuUs: number;
  backendCpuUs: number;
}

export interface LoadOptions {
  port: number;
  connections: number;
  seconds: number;
  /** Fixed total rate (req/s); without it autocannon sends as fast as answers come. */
  overallRate?: number;
  proxyPid?: number;
  backendPid: number;
}

/**
 * One autocannon run. Per-response latencies (ms, float) are kept for sub-ms percentiles;
 * CPU time is read from /proc before and after, so cost per request does not depend on
 * how busy the rest of the machine is.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const samples: number[] = [];
  const proxyBefore = o.proxyPid === undefined ? NaN : await cpuSeconds(o.proxyPid);
  const backendBefore = await cpuSeconds(o.backendPid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const opts = { url: `http://127.0.0.1:${o.port}/`, connections: o.connections, duration: o.seconds, overallRate: o.overallRate };
    const tracker = autocannon(opts, (err: Error | null, r: autocannon.Result) => (err ? reject(err) : resolve(r)));
    tracker.on('response', (_client, _status, _bytes, ms) => samples.push(ms));
  });
  const proxyAfter = o.proxyPid === undefined ? NaN : await cpuSeconds(o.proxyPid);
  const backendAfter = await cpuSeconds(o.backendPid);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  const requests = result.requests.total;
  return {
    rps: requests / (result.duration || o.seconds),
    requests,
    p50: at(0.5),
    p99: at(0.99),
    failures: result.errors + result.non2xx + result.timeouts,
    proxyCpuUs: ((proxyAfter - proxyBefore) * 1e6) / requests,
    backendCpuUs: ((backendAfter - backendBefore) * 1e6) / requests,
  };
}
