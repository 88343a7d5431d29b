import type { ProbeResult } from '../health/types.js';
import type { InstanceDraft } from '../kinds/types.js';
import { asServerUser, serverUser } from '../kinds/postgres/server-user.js';
import { shellQuote } from '../kinds/postgres/settings.js';
import { PASSWORD_ENV } from '../kinds/postgres/initdb.js';
import { PoolerAdmin } from './admin.js';
import { ADMIN_USER, authLineCommand, PGBOUNCER_BIN, pgbouncerIni, POOLER_ORDINAL, type PoolerLayout } from './config.js';

/**
 * Shell command of the pooler process: make its directory (owned by the server account,
 * 0700), write `pgbouncer.ini` (a here-document) and the auth file (the superuser and the
 * application role, the password from the environment, 0600), then exec PgBouncer as the
 * server account (it refuses root). Written at every start, so the files always match
 * the release.
 */
export function poolerCommand(l: PoolerLayout): string {
  const user = serverUser();
  const dir = shellQuote(l.dir);
  const [ini, auth] = [shellQuote(l.iniPath), shellQuote(l.authPath)];
  const own = (path: string): string => (user ? `chown ${user.uid}:${user.gid} ${path} && ` : '');
  const [cmd, args] = asServerUser(PGBOUNCER_BIN, [l.iniPath]);
  return [
    `mkdir -p ${dir} && ${own(dir)}chmod 0700 ${dir}`,
    `cat > ${ini} <<'SYMPHONY_POOLER_EOF'`,
    pgbouncerIni(l) + 'SYMPHONY_POOLER_EOF',
    `(umask 077 && { ${authLineCommand(ADMIN_USER, PASSWORD_ENV)}; ${l.user === ADMIN_USER ? '' : authLineCommand(l.user, PASSWORD_ENV) + '; '}} > ${auth})`,
    `${own(ini)}${own(auth)}chmod 0600 ${ini} ${auth}`,
    'exec ' + [cmd, ...args].map(shellQuote).join(' '),
  ].join('\n');
}

/** The pooler's instance of a postgres release: it holds the server's clients, so it is replaced first and never held itself. */
export function poolerDraft(l: PoolerLayout, volumePath: string, passwordPlaceholder: string): InstanceDraft {
  return {
    ordinal: POOLER_ORDINAL,
    command: poolerCommand(l),
    cwd: volumePath,
    env: { [PASSWORD_ENV]: passwordPlaceholder },
    port: l.port,
    volumePath,
    // SIGINT: PgBouncer's safe shutdown (PAUSE, then exit), so no transaction is cut mid-way.
    stopSignal: 'SIGINT',
    holds: true,
  };
}

/** Healthy when the admin console answers: it does not depend on the server, so a PAUSE or a server restart leaves the pooler healthy. */
export async function probePooler(l: PoolerLayout, password: string): Promise<ProbeResult> {
  const where = `pooler 127.0.0.1:${l.port}`;
  try {
    const admin = await PoolerAdmin.connect(l, password);
    try {
      const version = await admin.version();
      return { ok: true, detail: `${where} answers (${version})` };
    } finally {
      await admin.close();
    }
  } catch (err) {
    return { ok: false, detail: `${where}: ${(err as Error).message}` };
  }
}
