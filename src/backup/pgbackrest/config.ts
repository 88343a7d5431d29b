import type { BackupLayout } from '../layout.js';

/** What pgBackRest needs to know of the server it backs up. */
export interface ServerSide {
  dataDir: string;
  port: number;
  socketDir: string;
}

/**
 * The pgbackrest.conf Symphony writes for one service (no secrets in it: the
 * superuser password reaches pgBackRest through PGPASSWORD). Retention is
 * decided by `expiredBackups` (src/backup/retention.ts), so pgBackRest's own
 * count is set out of reach and never expires anything by itself. lz4 and two
 * processes: as fast as a raw copy on this machine's disks. Pure.
 */
export function pgbackrestConf(layout: BackupLayout, server: ServerSide): string {
  return [
    '# Written by Symphony from the stack file; edits are overwritten.',
    '[global]',
    `repo1-path=${layout.repoPath}`,
    'repo1-retention-full=9999999',
    `lock-path=${layout.lockPath}`,
    `log-path=${layout.logPath}`,
    'log-level-file=off',
    'log-level-console=warn',
    'log-level-stderr=off',
    'compress-type=lz4',
    'compress-level=1',
    'process-max=2',
    'start-fast=y',
    'archive-async=n',
    '',
    `[${layout.stanza}]`,
    `pg1-path=${server.dataDir}`,
    `pg1-port=${server.port}`,
    `pg1-socket-path=${server.socketDir}`,
    'pg1-user=postgres',
    '',
  ].join('\n');
}

/** `pgbackrest --config=… --stanza=… <command> [args]`: the argument vector, without the binary. Pure. */
export function pgbackrestArgs(layout: BackupLayout, command: string, args: string[] = []): string[] {
  return [`--config=${layout.configPath}`, `--stanza=${layout.stanza}`, ...args, command];
}

/**
 * Server settings for continuous archiving: every finished WAL segment goes to
 * the repository, and a segment is closed at least every 60 s so a quiet
 * server still loses at most a minute. The stack file's settings win. Pure.
 */
export function archiveSettings(layout: BackupLayout): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: ['pgbackrest', ...pgbackrestArgs(layout, 'archive-push'), '%p'].join(' '),
    archive_timeout: '60s',
  };
}
