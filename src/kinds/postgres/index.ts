import type { ProbeResult } from '../../health/types.js';
import type { InstanceDraft, KindContext, ServiceKind } from '../types.js';
import { writeArchiveConfig } from './archive.js';
import { PASSWORD_ENV, preparePostgres } from './initdb.js';
import { asServerUser, serverUser } from './server-user.js';
import { postgresLayout, settingsFileText, SETTINGS_INCLUDE, shellQuote, type PostgresLayout } from './settings.js';
import { reloadInPlace } from './reload.js';
import { staleLockGuard } from './stale-lock.js';
import { POOLER_ORDINAL, POOLER_PORT, poolerDraft, poolerLayout, probePooler, resumePooler, whileHeld, type PoolerLayout } from '../../pooler/index.js';

export { checkVersionChange, postgresLayout, binDirFor, defaultRoleName, type PostgresLayout, type VersionChange } from './settings.js';
export { PostgresKindError } from './errors.js';
export { PASSWORD_ENV } from './initdb.js';

/** `${secrets.<service>.password}`: the placeholder the secret store substitutes at start. */
export function passwordPlaceholder(service: string): string {
  return '${secrets.' + service + '.password}';
}

/**
 * Shell command of the server process (dropping root to the postgres account when needed),
 * after removing a lock file a killed server left ({@link staleLockGuard}) and writing the
 * release's settings file ({@link settingsLines}).
 */
export function serverCommand(ctx: KindContext): string {
  const layout = postgresLayout(ctx);
  const [cmd, args] = asServerUser(`${layout.binDir}/postgres`, layout.args);
  return [staleLockGuard(layout.dataDir, layout.socketDir), ...settingsLines(layout), 'exec ' + [cmd, ...args].map(shellQuote).join(' ')].join('\n');
}

/**
 * Shell lines that write the settings file (a here-document, so no value is interpreted)
 * and make postgresql.conf include it once. In the command, so every start of the release,
 * a supervisor restart included, runs with the release's own settings.
 */
function settingsLines(layout: PostgresLayout): string[] {
  const conf = shellQuote(`${layout.dataDir}/postgresql.conf`);
  const file = shellQuote(layout.settingsPath);
  const user = serverUser();
  return [
    `cat > ${file} <<'SYMPHONY_SETTINGS_EOF'`,
    settingsFileText(layout.settings) + 'SYMPHONY_SETTINGS_EOF',
    user ? `chown ${user.uid}:${user.gid} ${file} && chmod 0600 ${file}` : `chmod 0600 ${file}`,
    `grep -qxF ${shellQuote(SETTINGS_INCLUDE)} ${conf} || printf '\\n%s\\n' ${shellQuote(SETTINGS_INCLUDE)} >> ${conf}`,
  ];
}

/**
 * The pooler in front of the server (src/pooler/), or null for a release planned before
 * services had one (no `pooler` port): its dependants reach the server directly.
 */
export function poolerOf(ctx: KindContext, layout: PostgresLayout = postgresLayout(ctx)): PoolerLayout | null {
  const port = ctx.ports[POOLER_PORT];
  return port ? poolerLayout(ctx.volumePath as string, port, layout.port, layout.user, layout.database) : null;
}

async function probe(ctx: KindContext, draft: InstanceDraft, env: Record<string, string>): Promise<ProbeResult> {
  const layout = postgresLayout(ctx);
  const pooler = draft.ordinal === POOLER_ORDINAL ? poolerOf(ctx, layout) : null;
  if (pooler) return probePooler(pooler, env[PASSWORD_ENV] ?? '');
  // Loaded on first probe: planning (in the CLI) never needs the driver.
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: '127.0.0.1', port: layout.port, user: layout.user, database: layout.database,
    password: env[PASSWORD_ENV], connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    const res = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    if (res.rows[0]?.r) return { ok: false, detail: `127.0.0.1:${layout.port} accepts connections but is in recovery` };
    return { ok: true, detail: `127.0.0.1:${layout.port} accepts connections, not in recovery` };
  } catch (err) {
    return { ok: false, detail: `127.0.0.1:${layout.port}: ${(err as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A PostgreSQL server on its own volume, with a PgBouncer pooler in front of it
 * (instance `pooler`, its own stable port): dependants' `${db.url}` points at the
 * pooler, so a restart holds their connections (PAUSE … RESUME) instead of refusing
 * them. Settings or minor version changes replace it in place on the same data
 * directory; a major version change is refused (see `checkVersionChange`). Defaults:
 * user and database are the stack name with dashes turned into underscores.
 */
export const postgresKind: ServiceKind = {
  name: 'postgres',
  stablePorts: () => ['port', POOLER_PORT],
  instances(ctx) {
    const layout = postgresLayout(ctx);
    const pooler = poolerOf(ctx, layout);
    const server: InstanceDraft = {
      ordinal: '0',
      command: serverCommand(ctx),
      cwd: ctx.volumePath ?? '/',
      env: { [PASSWORD_ENV]: passwordPlaceholder(ctx.service), PGDATA: layout.dataDir },
      port: layout.port,
      volumePath: ctx.volumePath ?? undefined,
      stopSignal: 'SIGINT',
    };
    return pooler ? [server, poolerDraft(pooler, ctx.volumePath as string, passwordPlaceholder(ctx.service))] : [server];
  },
  attributes(ctx) {
    const layout = postgresLayout(ctx);
    const { user, database } = layout;
    const port = poolerOf(ctx, layout)?.port ?? layout.port;
    const password = passwordPlaceholder(ctx.service);
    return {
      url: `postgres://${encodeURIComponent(user)}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
      host: '127.0.0.1',
      port: String(port),
      server_port: String(layout.port),
      user,
      database,
      password,
    };
  },
  replaceMode: () => 'in-place',
  health: () => null,
  healthRule: (ctx) => ({
    rule: 'the server accepts a login on its port and is not in recovery (postgres kind)',
    change: `look at the server log; its settings are services.${ctx.service}.postgres.settings`,
  }),
  volumeAccount: () => serverUser(),
  generatedSecrets: () => ['password'],
  async prepare(ctx, env) {
    const layout = postgresLayout(ctx);
    await preparePostgres(layout, ctx.volumePath as string, env);
    writeArchiveConfig(ctx, layout);
  },
  probe,
  inPlace: {
    reload: reloadInPlace,
    async hold(ctx, env, restart) {
      const pooler = poolerOf(ctx);
      if (!pooler) return { result: await restart(), held: false, detail: 'no pooler: new connections are refused while the server restarts' };
      const held = await whileHeld(pooler, env[PASSWORD_ENV] ?? '', restart);
      return { result: held.result, held: true, detail: `clients held by the pooler on 127.0.0.1:${pooler.port} for ${held.heldMs} ms (PAUSE … RESUME) while the server restarted` };
    },
    async resume(ctx, env) {
      const pooler = poolerOf(ctx);
      if (pooler) await resumePooler(pooler, env[PASSWORD_ENV] ?? '');
    },
  },
};
