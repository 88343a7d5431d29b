import type { Command } from 'commander';
import type { BackupListing, BackupSummary } from '../../backup/actions.js';
import type { VerificationRecord } from '../../backup/records.js';
import type { BackupInfo } from '../../backup/types.js';
import { ensureAgent } from '../agent-client.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

interface NowOptions extends GlobalOptions {
  type: string;
  wait?: boolean;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** `3m`, `2h 5m`, `4d 1h`: how long ago, for status lines. */
export function age(seconds: number): string {
  if (seconds < 90) return `${seconds}s`;
  const m = Math.round(seconds / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function renderListing(l: BackupListing): string {
  const lines = [`backups of ${l.service} (environment ${l.env}) in ${l.repository}, retention ${l.retention}`];
  if (l.backups.length === 0) lines.push(`none yet; take one: symphony backup now ${l.service} --wait`);
  for (const b of l.backups) {
    const v = b.verified ? `${b.verified.ok ? 'verified' : 'VERIFY FAILED'} ${b.verified.at}` : 'not verified';
    lines.push(`  ${b.id.padEnd(34)} ${b.type.padEnd(4)} ${b.start} → ${b.end}  ${mb(b.bytes).padStart(10)} (${mb(b.repoBytes)} stored)  WAL ${b.wal ? `${b.wal.start}..${b.wal.stop}` : '-'}  ${v}`);
  }
  if (l.window) lines.push(`restorable: any moment from ${l.window.from} to the last archived WAL${l.wal ? ` (${l.wal.max})` : ''}`);
  return lines.join('\n');
}

/** Status lines of backed-up services. */
export function renderSummaries(list: BackupSummary[]): string[] {
  return list.map((s) => {
    const last = s.last ? `last backup ${s.last.id} (${s.last.type}) ${age(s.last.ageSeconds)} ago` : 'no backup yet';
    const v = s.verification ? `last verification ${s.verification.ok ? 'passed' : 'FAILED'} ${s.verification.at} (${s.verification.backup})` : 'never verified';
    return `  backups: ${last}; ${s.count} kept; ${v}`;
  });
}

function renderVerification(v: VerificationRecord): string {
  return `verification of ${v.backup} (${v.service}) ${v.ok ? 'passed' : 'FAILED'} in ${(v.durationMs / 1000).toFixed(1)} s: ${v.detail}`;
}

/** `symphony backup now|list|verify <service>`: backups (pgBackRest, etcd snapshots, volume archives) taken and checked by the agent. */
export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('backups of a postgres or etcd service or an app\'s volume: take one now, list them, verify one by restoring it');
  withCommon(backup.command('now <service>').description('take a backup now (the agent runs it; --wait to wait for it)'))
    .option('--type <type>', 'full, diff or incr', 'full')
    .option('--wait', 'wait until the backup is in the repository')
    .action(
      action(async (service: string, o: NowOptions) => {
        const client = await ensureAgent(stateDirOf(o));
        const res = await client.call<{ backup?: BackupInfo; expired?: string[]; started?: boolean }>('POST', '/v1/backups', { env: envOf(o), service, type: o.type, wait: Boolean(o.wait) });
        await client.close();
        const human = res.backup
          ? `${res.backup.type} backup ${res.backup.id} of ${service}: ${mb(res.backup.bytes)} in ${((Date.parse(res.backup.end) - Date.parse(res.backup.start)) / 1000).toFixed(1)} s${res.expired?.length ? `; retention expired ${res.expired.join(', ')}` : ''}`
          : `${o.type} backup of ${service} started in the agent; see it with: symphony backup list ${service}`;
        print(o, human, res);
      }),
    );
  withCommon(backup.command('list <service>').description('backups in the repository: id, type, start, end, size, WAL range, verified')).action(
    action(async (service: string, o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const l = await client.call<BackupListing>('GET', `/v1/backups?env=${encodeURIComponent(envOf(o))}&service=${encodeURIComponent(service)}`);
      await client.close();
      print(o, renderListing(l), l);
    }),
  );
  withCommon(backup.command('verify <service> [id]').description('restore a backup (default: the newest) into a throwaway server, run backup.verify.check, record the result')).action(
    action(async (service: string, id: string | undefined, o: GlobalOptions) => {
      const client = await ensureAgent(stateDirOf(o));
      const v = await client.call<VerificationRecord>('POST', '/v1/backups/verify', { env: envOf(o), service, backup: id });
      await client.close();
      print(o, renderVerification(v), v);
      return v.ok ? 0 : 1;
    }),
  );
}
