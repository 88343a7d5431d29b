import type { ClientBase } from 'pg';
import { ident, literal } from '../migrate/names.js';
import { versionRoleName } from './config.js';

/** The comment that marks a role as a schema-version role of Symphony's (and names its schema). */
const MARK = 'symphony schema version ';

/** What {@link syncVersionRoles} changed. */
export interface RoleSync {
  created: string[];
  kept: string[];
  dropped: string[];
}

/**
 * The schema versions that need a login role: the one apps use when nothing is in
 * flight (the latest complete version; none before the first migration, whose apps
 * log in as the application role) and the in-flight one. Pure.
 */
export function wantedSchemas(status: { versions: Array<{ status: string; schema: string }> }): string[] {
  const complete = status.versions.filter((v) => v.status === 'complete').at(-1);
  const inFlight = status.versions.find((v) => v.status === 'in-flight');
  return [...new Set([complete?.schema, inFlight?.schema].filter((s): s is string => !!s))];
}

/**
 * Make the version roles of `user` be exactly those of `schemas`, as the superuser on the
 * application database. A version role logs in with the application role's password (its
 * SCRAM secret copied inside the server, so no password is in any statement), and each
 * session of it gets `search_path = <schema>` and `role = <user>`: it acts as the
 * application role (objects it creates are the application role's), bound to its version.
 * A role no longer wanted is dropped after what it might own is handed to the application
 * role. Idempotent.
 */
export async function syncVersionRoles(client: ClientBase, user: string, schemas: string[]): Promise<RoleSync> {
  const rows = (await client.query<{ rolname: string; note: string | null }>(
    `SELECT r.rolname, shobj_description(r.oid, 'pg_authid') AS note FROM pg_roles r
      JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles u ON u.oid = m.roleid AND u.rolname = $1`,
    [user],
  )).rows.filter((r) => r.note?.startsWith(MARK));
  const existing = new Set(rows.map((r) => r.rolname));
  const out: RoleSync = { created: [], kept: [], dropped: [] };
  const wanted = new Map(schemas.map((s) => [versionRoleName(user, s), s]));
  for (const [role, schema] of wanted) {
    const r = ident(role);
    (existing.has(role) ? out.kept : out.created).push(role);
    await client.query(`DO $$BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)}) THEN CREATE ROLE ${r} LOGIN IN ROLE ${ident(user)}; END IF;
      EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', ${literal(role)}, (SELECT rolpassword FROM pg_authid WHERE rolname = ${literal(user)}));
    END$$`);
    await client.query(`ALTER ROLE ${r} SET search_path = ${ident(schema)}`);
    await client.query(`ALTER ROLE ${r} SET role = ${ident(user)}`);
    await client.query(`COMMENT ON ROLE ${r} IS ${literal(MARK + schema)}`);
  }
  for (const role of existing) {
    if (wanted.has(role)) continue;
    await client.query(`REASSIGN OWNED BY ${ident(role)} TO ${ident(user)}`);
    await client.query(`DROP OWNED BY ${ident(role)}`);
    await client.query(`DROP ROLE ${ident(role)}`);
    out.dropped.push(role);
  }
  return out;
}
