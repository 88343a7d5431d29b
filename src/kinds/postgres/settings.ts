import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresServiceSpec } from '../../spec/schema.js';
import type { KindContext } from '../types.js';
import { archiveSettingsOf } from './archive.js';
import { PostgresKindError } from './errors.js';

/** Root of the Debian/Ubuntu layout: one `bin/` per major version. */
export const POSTGRES_ROOT = process.env.SYMPHONY_POSTGRES_ROOT ?? '/usr/lib/postgresql';

/** Everything about one postgres service that follows from its stack section. */
export interface PostgresLayout {
  major: string;
  binDir: string;
  port: number;
  user: string;
  database: string;
  dataDir: string;
  socketDir: string;
  /** Arguments of the `postgres` server process after the binary (paths, port, listen address: what only a restart changes). */
  args: string[];
  /** Server settings (Symphony's defaults, archiving, the stack file's), sorted by name: written to {@link settingsPath}. */
  settings: Record<string, string>;
  /** `<volume>/postgresql.symphony.conf`, included at the end of the data dir's postgresql.conf: a reload can change it. */
  settingsPath: string;
}

/** The line that makes the data dir's postgresql.conf read {@link PostgresLayout.settingsPath}. Relative, so a copied data dir reads its own volume's file. */
export const SETTINGS_INCLUDE = "include_if_exists = '../postgresql.symphony.conf'";
/** A setting in the file naming its content: after a reload, a new session sees the new digest. */
export const DIGEST_SETTING = 'symphony.settings_digest';

/**
 * Identifier-safe default for user and database: the stack name with dashes as
 * underscores. Postgres reserves role names starting with `pg_`, so a stack
 * named `pg-…` gets a `sym_` prefix (`pg-shop` → `sym_pg_shop`).
 */
export function defaultRoleName(stack: string): string {
  const name = stack.replace(/-/g, '_');
  return name.startsWith('pg_') ? `sym_${name}`.slice(0, 63) : name;
}

export function majorOf(version: string): string {
  return version.split('.')[0];
}

/** Binaries of a major version; refuses when that version is not installed. */
export function binDirFor(major: string, root = POSTGRES_ROOT): string {
  const dir = join(root, major, 'bin');
  if (!existsSync(join(dir, 'postgres'))) {
    throw new PostgresKindError(
      `PostgreSQL ${major} is not installed: ${join(dir, 'postgres')} does not exist`,
      `install it (apt-get install postgresql-${major}) or set postgres.version to an installed major (ls ${root})`,
    );
  }
  return dir;
}

/**
 * Settings Symphony's servers get unless the stack file sets them.
 * `wal_init_zero=off`: a backend that needs a new 16 MB WAL segment otherwise
 * writes 16 MB of zeros and fsyncs them while holding WALWriteLock, stalling
 * every commit on the server (~60 ms here, several times a second during a
 * migration's backfill). Off, the segment is created by writing its last byte.
 */
export const SERVER_DEFAULTS: Readonly<Record<string, string>> = { wal_init_zero: 'off' };

/** Resolve the service section into paths, port and server arguments. Pure except the binary check. */
export function postgresLayout(ctx: KindContext): PostgresLayout {
  const pg = (ctx.spec as PostgresServiceSpec).postgres;
  if (!ctx.volumePath) {
    throw new PostgresKindError(
      `service ${ctx.service}: postgres needs a volume for its data`,
      `add \`volume: ${ctx.service}-data\` to services.${ctx.service} in the stack file`,
    );
  }
  const port = pg.port ?? ctx.ports.port;
  if (!port) {
    throw new PostgresKindError(`service ${ctx.service}: no port allocated for postgres`, 'run `symphony plan` again so the planner allocates one');
  }
  const major = majorOf(pg.version);
  const dataDir = join(ctx.volumePath, 'data');
  const socketDir = join(ctx.volumePath, 'run');
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', socketDir];
  const merged = { ...SERVER_DEFAULTS, ...archiveSettingsOf(ctx), ...pg.settings };
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[a-z_][a-z0-9_.]*$/.test(key)) {
      throw new PostgresKindError(`service ${ctx.service}: '${key}' is not a postgres setting name`, `fix services.${ctx.service}.postgres.settings`);
    }
    if (/[\n\r\0]/.test(value)) {
      throw new PostgresKindError(`service ${ctx.service}: the value of setting '${key}' has a line break`, `write it on one line in services.${ctx.service}.postgres.settings`);
    }
    settings[key] = value;
  }
  if (pg.user?.startsWith('pg_')) {
    throw new PostgresKindError(
      `service ${ctx.service}: postgres.user '${pg.user}' is reserved (Postgres refuses role names starting with pg_)`,
      `choose another name in services.${ctx.service}.postgres.user, or leave it out to use the default`,
    );
  }
  const user = pg.user ?? defaultRoleName(ctx.stack);
  const settingsPath = join(ctx.volumePath, 'postgresql.symphony.conf');
  return { major, binDir: binDirFor(major), port, user, database: pg.database ?? user, dataDir, socketDir, args, settings, settingsPath };
}

/** Text of the settings file: one `name = 'value'` a line, then the digest of those lines. Pure. */
export function settingsFileText(settings: Record<string, string>): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
  const digest = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
  return ['# Written by Symphony from the stack file (postgres.settings); edits are overwritten.', ...lines, `${DIGEST_SETTING} = '${digest}'`, ''].join('\n');
}

/** The digest {@link settingsFileText} writes for these settings. */
export function settingsDigest(settings: Record<string, string>): string {
  return /'([0-9a-f]{16})'\n$/.exec(settingsFileText(settings))![1];
}

/** Quote one argument for `/bin/sh`. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface VersionChange {
  /** `in-place`: same volume, fast shutdown then start. */
  action: 'none' | 'in-place';
  note: string;
}

/**
 * What a version change of a postgres service means. Minor changes (15.3 → 15.4,
 * or only settings) restart on the same volume; a major change is refused.
 */
export function checkVersionChange(from: string, to: string): VersionChange {
  const [a, b] = [majorOf(from), majorOf(to)];
  if (a !== b) {
    throw new PostgresKindError(
      `postgres major version change ${from} → ${to} is not supported: the data directory of ${a} cannot be opened by ${b}`,
      `keep postgres.version at "${a}" for now; a major upgrade (pg_upgrade or logical replication) is a separate operation`,
    );
  }
  if (from === to) return { action: 'none', note: 'same version' };
  return { action: 'in-place', note: `restart on the same volume (${from} → ${to})` };
}
