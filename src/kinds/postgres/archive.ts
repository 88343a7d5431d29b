import { chownSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { backupLayout } from '../../backup/layout.js';
import { archiveSettings, pgbackrestConf } from '../../backup/pgbackrest/config.js';
import type { KindContext } from '../types.js';
import { makeTraversable } from '../../state/dir.js';
import { serverUser } from './server-user.js';
import type { PostgresLayout } from './settings.js';

/** Settings a service with `backup:` adds to its server: continuous WAL archiving to pgBackRest. Pure. */
export function archiveSettingsOf(ctx: KindContext): Record<string, string> {
  const layout = backupLayout(ctx);
  return layout ? archiveSettings(layout) : {};
}

/**
 * Write the service's pgbackrest.conf and the directories pgBackRest uses
 * (owned by the server account, which runs archive-push). Atomic, idempotent;
 * a no-op for a service without `backup:`.
 */
export function writeArchiveConfig(ctx: KindContext, server: PostgresLayout): void {
  const layout = backupLayout(ctx);
  if (!layout) return;
  const user = serverUser();
  // Parents the server account only traverses (like the state dir): 0711 whatever the umask.
  for (const dir of [dirname(layout.dir), dirname(layout.repoPath)]) makeTraversable(dir);
  for (const dir of [layout.dir, layout.lockPath, layout.logPath, layout.repoPath]) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (user) chownSync(dir, user.uid, user.gid);
  }
  const tmp = `${layout.configPath}.${process.pid}.tmp`;
  writeFileSync(tmp, pgbackrestConf(layout, { dataDir: server.dataDir, port: server.port, socketDir: server.socketDir }), { mode: 0o640 });
  if (user) chownSync(tmp, user.uid, user.gid);
  renameSync(tmp, layout.configPath);
}
