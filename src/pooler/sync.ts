import type { PostgresLayout } from '../kinds/postgres/settings.js';
import { ADMIN_USER } from './config.js';
import { syncVersionRoles, wantedSchemas, type RoleSync } from './roles.js';

/**
 * Connect to the server as its superuser (same password as the application role) and
 * make the version roles of the application role match a migration status. Used by the
 * deploy's migrate steps and by `symphony migrate start|complete|rollback`.
 */
export async function syncRolesOf(layout: Pick<PostgresLayout, 'port' | 'user' | 'database'>, password: string, status: { versions: Array<{ status: string; schema: string }> }): Promise<RoleSync> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port: layout.port, user: ADMIN_USER, database: layout.database, password, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await syncVersionRoles(client, layout.user, wantedSchemas(status));
  } finally {
    await client.end().catch(() => undefined);
  }
}
