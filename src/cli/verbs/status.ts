import type { Command } from 'commander';
import type { EnvStatus, ServiceStatus } from '../../agent/status.js';
import type { BackupSummary } from '../../backup/actions.js';
import { renderSummaries } from './backup.js';
import { renderDaemons } from '../render-daemons.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

export function renderStatus(s: EnvStatus, backups: BackupSummary[] = []): string {
  const lines = [`environment ${s.env} (state serial ${s.serial})`];
  lines.push(...renderDaemons(s));
  if (s.lock) lines.push(`lock: held by ${s.lock.holder} (id ${s.lock.id}, expires ${s.lock.expiresAt})`);
  if (s.operation) lines.push(`last operation: ${s.operation.id} ${s.operation.kind} ${s.operation.status}${s.operation.error ? ` — ${s.operation.error}` : ''}`);
  if (s.services.length === 0) lines.push('no services recorded; run: symphony apply');
  for (const svc of s.services) {
    const ports = Object.entries(svc.ports).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push('', `${svc.name} (${svc.kind})  release ${svc.release ?? '-'}${ports ? `  ports ${ports}` : ''}${svc.volume ? `  volume ${svc.volume}` : ''}`);
    const reach = reachOf(svc);
    if (reach) lines.push(`  ${reach.label}: ${reach.text}`);
    if (svc.volumePath) lines.push(`  volume at ${svc.volumePath}`);
    const warm = new Map((svc.releases ?? []).map((r) => [r.id, r.warmUntil]));
    for (const i of svc.instances) {
      const role = i.role === 'warm' && warm.get(i.release) ? `warm until ${warm.get(i.release)}` : (i.role ?? '');
      lines.push(`  ${i.id.padEnd(28)} ${i.status.padEnd(8)} ${(i.alive ? `pid ${i.pid}` : 'not running').padEnd(12)} port ${String(i.port ?? '-').padEnd(6)} ${i.health.padEnd(9)} restarts ${String(i.restarts).padEnd(3)} ${role}`.trimEnd());
    }
    lines.push(...renderSummaries(backups.filter((b) => b.service === svc.name)));
  }
  return lines.join('\n');
}

/** How to reach a service in one line: its url, else its endpoints (secret parts are already masked). */
function reachOf(svc: ServiceStatus): { label: 'url' | 'endpoints'; text: string } | null {
  if (svc.endpoints && (svc.url === undefined || svc.endpoints.length > 1)) return { label: 'endpoints', text: svc.endpoints.join(', ') };
  return svc.url !== undefined ? { label: 'url', text: svc.url } : null;
}

/** The short block `apply` ends with: one line per service that can be reached. */
export function renderOutputs(s: EnvStatus): string {
  const rows = s.services.flatMap((svc) => {
    const reach = reachOf(svc);
    return reach ? [[svc.name, reach.text]] : [];
  });
  if (rows.length === 0) return '';
  const width = Math.max(...rows.map(([n]) => n.length));
  return ['Outputs:', ...rows.map(([n, v]) => `  ${n.padEnd(width)}  ${v}`), '(secret parts masked; one value for scripts: symphony output <service>[.<name>])'].join('\n');
}

export function registerStatus(program: Command): void {
  withCommon(program.command('status').description('per service: release, instances, health, ports, restarts')).action(
    action(async (o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const s = await client.call<EnvStatus>('GET', `/v1/status?env=${encodeURIComponent(envOf(o))}`);
      const { services: backups } = await client.call<{ services: BackupSummary[] }>('GET', `/v1/backups?env=${encodeURIComponent(envOf(o))}`);
      await client.close();
      print(o, renderStatus(s, backups), { ...s, backups });
    }),
  );
}
