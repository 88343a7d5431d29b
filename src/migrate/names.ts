import { createHash } from 'node:crypto';

/** Schema of the engine's bookkeeping. */
export const BOOKKEEPING_SCHEMA = 'symphony_migrations';
/** Prefix of every physical object the engine creates; such columns and tables never appear in views. */
export const INTERNAL_PREFIX = '_sym_';
const MAX_IDENT = 63;
/**
 * Session setting a direct backfill sets to the migration's hash: that
 * migration's trigger then leaves UPDATEs alone (the batch computes the fill).
 */
export const BACKFILL_FLAG = 'symphony.backfill';

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

export function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 8);
}

/** Keep an identifier within Postgres' 63 bytes, replacing the overflow by a hash. */
export function fitIdent(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENT) return name;
  return name.slice(0, MAX_IDENT - 9) + '_' + shortHash(name);
}

/**
 * Name of the Postgres schema holding one version's views: `<prefix>_<version>`,
 * lowercased, non-identifier characters as `_`, at most 63 bytes, never a
 * reserved `pg_` name.
 */
export function versionSchemaName(prefix: string, version: string): string {
  return unreservedName(fitIdent(`${prefix}_${version}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')));
}

/** Schema of the version before the first migration ran. */
export function baselineSchemaName(prefix: string): string {
  return versionSchemaName(prefix, 'baseline');
}

/**
 * Connection settings that bind a client to a schema version. `options` goes
 * into a libpq URL (`?options=...`); `env` is for clients that read PGOPTIONS.
 */
export function connectionOptionsFor(schema: string): { searchPath: string; options: string; env: Record<string, string> } {
  const options = `-c search_path=${schema}`;
  return { searchPath: schema, options, env: { PGOPTIONS: options, SYMPHONY_SCHEMA_VERSION: schema } };
}

/** A postgres URL with the version's search_path added to its `options` parameter. */
export function urlForVersion(url: string, schema: string): string {
  const u = new URL(url);
  const existing = u.searchParams.get('options');
  u.searchParams.set('options', [existing, connectionOptionsFor(schema).options].filter(Boolean).join(' '));
  return u.toString();
}

export function shadowColumn(column: string): string {
  return fitIdent(`${INTERNAL_PREFIX}new_${column}`);
}

/**
 * Where rollback keeps a column or table the rolled-back version wrote:
 * `_sym_rolled_back_<version>_<name>`, or with `_2`, `_3`… when `taken` says
 * that name is in use (the same version rolled back before).
 */
export function asideName(version: string, name: string, taken: (candidate: string) => boolean = () => false): string {
  const full = `${INTERNAL_PREFIX}rolled_back_${version}_${name}`;
  const base = Buffer.byteLength(full) <= MAX_IDENT ? full : fitIdent(`${INTERNAL_PREFIX}rb_${shortHash(version)}_${name}`);
  let candidate = base;
  for (let n = 2; taken(candidate); n++) candidate = fitIdent(`${base}_${n}`);
  return candidate;
}

/**
 * A Postgres name derived from user input that is never reserved: roles and
 * schemas whose names start with `pg_` are refused by the server, so such a
 * name gets a `sym_` prefix (`pg_shop` → `sym_pg_shop`).
 */
export function unreservedName(name: string): string {
  return name.startsWith('pg_') ? fitIdent(`sym_${name}`) : name;
}
