import type { Command } from 'commander';
import type { EnvStatus } from '../../agent/status.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

export function renderStatus(s: EnvStatus): string {
  const lines = [`environment ${s.env} (state serial ${s.serial})`];
  if (s.lock) lines.push(`lock: held by ${s.lock.holder} (id ${s.lock.id}, expires ${s.lock.expiresAt})`);
  if (s.operation) lines.push(`last operation: ${s.operation.id} ${s.operation.kind} ${s.operation.status}${s.operation.error ? ` — ${s.operation.error}` : ''}`);
  if (s.services.length === 0) lines.push('no services recorded; run: symphony apply');
  for (const svc of s.services) {
    const ports = Object.entries(svc.ports).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push('', `${svc.name} (${svc.kind})  release ${svc.release ?? '-'}${ports ? `  ports ${ports}` : ''}${svc.volume ? `  volume ${svc.volume}` : ''}`);
    for (const i of svc.instances) {
      lines.push(`  ${i.id.padEnd(28)} ${i.status.padEnd(8)} ${(i.alive ? `pid ${i.pid}` : 'not running').padEnd(12)} port ${String(i.port ?? '-').padEnd(6)} ${i.health.padEnd(9)} restarts ${i.restarts}`);
    }
  }
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  withCommon(program.command('status').description('per service: release, instances, health, ports, restarts')).action(
    action(async (o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const s = await client.call<EnvStatus>('GET', `/v1/status?env=${encodeURIComponent(envOf(o))}`);
      await client.close();
      print(o, renderStatus(s), s);
    }),
  );
}
