import type { EnvStatus } from '../agent/status.js';

const uptime = (s: number): string => (s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);

/**
 * The daemons of a state dir in status: the agent's pid and uptime, the router's pid,
 * uptime, processes, restarts and takeovers, and every route whose port does not answer.
 */
export function renderDaemons(s: EnvStatus): string[] {
  const lines: string[] = [];
  if (s.agent) lines.push(`agent: pid ${s.agent.pid}, up ${uptime(s.agent.uptimeS)} (stop it with: symphony agent stop)`);
  const r = s.router;
  if (!r) return lines;
  const counts = `restarts ${r.restarts}${r.lastRestartAt ? ` (last ${r.lastRestartAt})` : ''}, takeovers ${r.takeovers}`;
  if (r.running) lines.push(`router: pid ${r.pid}, up ${uptime(r.uptimeS ?? 0)}, processes ${r.peers.join(',')}, ${r.routes} route(s), ${counts}`);
  else if (r.routes > 0) lines.push(`router: NOT RUNNING with ${r.routes} saved route(s); the agent starts it again (${counts})`);
  else lines.push('router: not running (no route)');
  for (const l of r.listeners) if (l.problem && l.route.startsWith(`${s.env}:`)) lines.push(`  route ${l.route} on 127.0.0.1:${l.listen}: ${l.problem}`);
  return lines;
}
