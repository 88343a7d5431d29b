import { join } from 'node:path';
import { fitIdent, unreservedName } from '../migrate/names.js';

/** PgBouncer's binary (Debian `pgbouncer`); `SYMPHONY_PGBOUNCER` names another. */
export const PGBOUNCER_BIN = process.env.SYMPHONY_PGBOUNCER ?? '/usr/sbin/pgbouncer';
/** The pooler's instance ordinal beside the server's `0`: `<release>-pooler`. */
export const POOLER_ORDINAL = 'pooler';
/** The stable port name the pooler listens on (the server keeps `port`). */
export const POOLER_PORT = 'pooler';
/** The role the pooler's admin console and `auth_query` log in as: the server's superuser. */
export const ADMIN_USER = 'postgres';

/** What the pooler of one postgres service needs to know, from the server's layout. Pure data. */
export interface PoolerLayout {
  /** Where clients connect: 127.0.0.1 and this port. */
  port: number;
  /** The server the pooler forwards to, on 127.0.0.1. */
  serverPort: number;
  /** The application role and database (in the auth file; other roles are looked up with auth_query). */
  user: string;
  database: string;
  /** `<volume>/pooler`: the config and auth files, owned by the server account. */
  dir: string;
  iniPath: string;
  authPath: string;
}

export interface PoolerSettings {
  /** Server connections per (database, role) pool. */
  poolSize: number;
  /** Client connections the pooler accepts in all. */
  maxClients: number;
}

export const POOLER_DEFAULTS: Readonly<PoolerSettings> = { poolSize: 20, maxClients: 1000 };

export function poolerLayout(volumePath: string, port: number, serverPort: number, user: string, database: string): PoolerLayout {
  const dir = join(volumePath, 'pooler');
  return { port, serverPort, user, database, dir, iniPath: join(dir, 'pgbouncer.ini'), authPath: join(dir, 'users.txt') };
}

/**
 * The login role that binds a client to one schema version: `<user>__<schema>`, fitted to
 * 63 bytes. PgBouncer does not pass the startup `options`, so the version rides in the role:
 * `ALTER ROLE … SET search_path` gives every session of it that schema. Pure.
 */
export function versionRoleName(user: string, schema: string): string {
  return unreservedName(fitIdent(`${user}__${schema}`));
}

/**
 * `pgbouncer.ini` of a pooler. Transaction pooling, so `PAUSE` completes as soon as running
 * transactions end while clients keep their connections; every database name maps to the
 * server; `auth_query` (as the superuser, through the auth file) finds the version roles, and
 * their SCRAM secrets let the pooler log in to the server with the client's own proof.
 * No unix socket (paths under a state dir are often past the 107-byte limit). Pure.
 */
export function pgbouncerIni(l: PoolerLayout, s: PoolerSettings = POOLER_DEFAULTS): string {
  return [
    '; Written by Symphony at each start of the pooler; edits are overwritten.',
    '[databases]',
    `* = host=127.0.0.1 port=${l.serverPort}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${l.port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${l.authPath}`,
    `auth_user = ${ADMIN_USER}`,
    `admin_users = ${ADMIN_USER}`,
    'pool_mode = transaction',
    `default_pool_size = ${s.poolSize}`,
    `max_client_conn = ${s.maxClients}`,
    'ignore_startup_parameters = extra_float_digits',
    'server_login_retry = 1',
    'query_wait_timeout = 120',
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n');
}

/** A line of the auth file for `user` whose password is in the shell variable `passwordVar`: quotes doubled by sed. */
export function authLineCommand(user: string, passwordVar: string): string {
  return `printf '"%s" "%s"\\n' '${user.replace(/"/g, '""').replace(/'/g, `'\\''`)}' "$(printf '%s' "$${passwordVar}" | sed 's/"/""/g')"`;
}
