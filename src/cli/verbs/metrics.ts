import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import type { ServiceFigures } from '../../observe/figures.js';
import type { MetricsAnswer } from '../../observe/guest.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

const dash = '-';
const ms = (v: number | null): string => (v === null ? dash : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

/** The table `symphony metrics` prints, one row per service. */
export function renderFigures(a: MetricsAnswer): string {
  const head = ['SERVICE', 'READY', 'REQ/S', 'ERRORS', 'P50', 'P99', 'CPU', 'RSS'];
  const rows = a.services.map((s: ServiceFigures) => [
    s.service,
    `${s.replicas.ready}/${s.replicas.desired}`,
    s.rps === null ? dash : s.rps.toFixed(1),
    s.errorRate === null ? dash : `${(s.errorRate * 100).toFixed(2)}%`,
    ms(s.p50Ms),
    ms(s.p99Ms),
    s.cpu === null ? dash : `${(s.cpu * 100).toFixed(1)}%`,
    mib(s.rssBytes),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const note = `requests over the router's last ${a.windowS} s; CPU over the last ${a.cpuSpanS.toFixed(1)} s, 100% = one core`;
  return [line(head), ...rows.map(line), '', note].join('\n');
}

/** `symphony metrics [svc]`: the figures a Prometheus would show, for people without one. */
export function registerMetrics(program: Command): void {
  withCommon(program.command('metrics [service]').description('requests per second, error %, p50/p99, CPU and memory per service, now')).action(
    action(async (service: string | undefined, o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const q = new URLSearchParams({ env: envOf(o), ...(service ? { service } : {}) });
      const answer = await client.call<MetricsAnswer>('GET', `/v1/metrics?${q}`);
      await client.close();
      if (service && answer.services.length === 0) throw new NotFoundError(`no service ${service} in environment ${envOf(o)}`, 'see what exists with: symphony status');
      print(o, answer.services.length ? renderFigures(answer) : 'no services recorded', answer);
    }),
  );
}
