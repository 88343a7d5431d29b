import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVersionChange, postgresKind, PostgresKindError, binDirFor } from '../src/kinds/postgres/index.js';
import type { KindContext } from '../src/kinds/types.js';
import { changedSettings, reloadVerdict } from '../src/kinds/postgres/reload.js';
import { postgresLayout } from '../src/kinds/postgres/settings.js';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.js';

function ctxOf(spec: Record<string, unknown>, ports: Record<string, number> = { port: 32001 }): KindContext {
  return { stack: 'my-shop', env: 'prod', service: 'db', spec, stackDir: '/srv', volumePath: '/srv/vol/db', ports };
}

describe('postgres kind (pure parts)', () => {
  it('builds one server instance with settings, socket dir and the allocated port', () => {
    const ctx = ctxOf({ postgres: { version: '15', settings: { shared_buffers: '64MB', max_connections: '50' } } });
    const [draft] = postgresKind.instances(ctx);
    expect(draft.port).toBe(32001);
    expect(draft.volumePath).toBe('/srv/vol/db');
    expect(draft.command).toMatch(/\/usr\/lib\/postgresql\/15\/bin\/postgres -D \/srv\/vol\/db\/data -p 32001 -c listen_addresses=127.0.0.1 -k \/srv\/vol\/db\/run$/m);
    // Settings go to a file a reload can change, written by the command itself (a here-document).
    expect(draft.command).toContain("cat > /srv/vol/db/postgresql.symphony.conf <<'SYMPHONY_SETTINGS_EOF'\n# Written by Symphony");
    expect(draft.command).toContain("\nmax_connections = '50'\nshared_buffers = '64MB'\nwal_init_zero = 'off'\nsymphony.settings_digest = '");
    expect(draft.command).toContain(`include_if_exists = '\\''../postgresql.symphony.conf'\\''`);
    expect(draft.env.POSTGRES_PASSWORD).toBe('${secrets.db.password}');
    expect(postgresKind.stablePorts(ctx)).toEqual(['port', 'pooler']);
    // A context without a pooler port (a release planned before pooling) has the server alone.
    expect(postgresKind.instances(ctx).map((d) => d.ordinal)).toEqual(['0']);
    expect(postgresKind.replaceMode(ctx)).toBe('in-place');
    expect(postgresKind.generatedSecrets!(ctx)).toEqual(['password']);
  });

  it('puts a pooler in front of the server when a pooler port is allocated: dependants reach it, the server keeps its port', () => {
    const ctx = ctxOf({ postgres: { version: '15' } }, { port: 32001, pooler: 32005 });
    const [server, pooler] = postgresKind.instances(ctx);
    expect(server.ordinal).toBe('0');
    expect(server.holds).toBeUndefined();
    expect(pooler).toMatchObject({ ordinal: 'pooler', port: 32005, cwd: '/srv/vol/db', volumePath: '/srv/vol/db', stopSignal: 'SIGINT', holds: true, env: { POSTGRES_PASSWORD: '${secrets.db.password}' } });
    expect(pooler.command).toContain("cat > /srv/vol/db/pooler/pgbouncer.ini <<'SYMPHONY_POOLER_EOF'\n");
    expect(pooler.command).toContain('\n* = host=127.0.0.1 port=32001\n');
    expect(pooler.command).toContain('\nlisten_port = 32005\n');
    expect(pooler.command).toContain('\npool_mode = transaction\n');
    expect(pooler.command).toMatch(/pgbouncer \/srv\/vol\/db\/pooler\/pgbouncer\.ini$/);
    expect(pooler.command).not.toContain('${secrets');
    expect(postgresKind.attributes(ctx)).toEqual({
      url: 'postgres://my_shop:${secrets.db.password}@127.0.0.1:32005/my_shop',
      host: '127.0.0.1', port: '32005', server_port: '32001', user: 'my_shop', database: 'my_shop', password: '${secrets.db.password}',
    });
  });

  it('a setting in the stack file overrides the server defaults', () => {
    const [draft] = postgresKind.instances(ctxOf({ postgres: { version: '15', settings: { wal_init_zero: 'on' } } }));
    expect(draft.command).toContain("wal_init_zero = 'on'");
    expect(draft.command).not.toContain("wal_init_zero = 'off'");
  });

  it('uses spec.postgres.port over the allocated one and derives attributes', () => {
    const ctx = ctxOf({ postgres: { version: '15', port: 32002 } });
    expect(postgresKind.attributes(ctx)).toEqual({
      url: 'postgres://my_shop:${secrets.db.password}@127.0.0.1:32002/my_shop',
      host: '127.0.0.1', port: '32002', server_port: '32002', user: 'my_shop', database: 'my_shop', password: '${secrets.db.password}',
    });
    const custom = ctxOf({ postgres: { version: '15', user: 'app', database: 'orders' } });
    expect(postgresKind.attributes(custom).url).toBe('postgres://app:${secrets.db.password}@127.0.0.1:32001/orders');
  });

  it('refuses a missing major version and a volume-less service', () => {
    expect(() => binDirFor('9')).toThrow(/PostgreSQL 9 is not installed/);
    expect(() => postgresKind.instances(ctxOf({ postgres: { version: '9.6' } }))).toThrow(PostgresKindError);
    expect(() => postgresKind.instances({ ...ctxOf({ postgres: { version: '15' } }), volumePath: null })).toThrow(/needs a volume/);
  });

  it('allows minor and config changes in place, refuses a major change', () => {
    expect(checkVersionChange('15', '15')).toEqual({ action: 'none', note: 'same version' });
    expect(checkVersionChange('15.3', '15.4').action).toBe('in-place');
    expect(() => checkVersionChange('15', '16')).toThrow(/major version change 15 → 16 is not supported/);
  });
});

describe('reload or restart (pure)', () => {
  const layout = (settings: Record<string, string>, port = 32001) => postgresLayout(ctxOf({ postgres: { version: '15', settings } }, { port }));
  it('lists changed and removed settings, or null when the server itself changes', () => {
    expect(changedSettings(layout({ work_mem: '4MB', a_b: '1' }), layout({ work_mem: '8MB' }), '15', '15')).toEqual(['a_b', 'work_mem']);
    expect(changedSettings(layout({ work_mem: '4MB' }), layout({ work_mem: '4MB' }), '15', '15')).toEqual([]);
    expect(changedSettings(layout({}), layout({}, 32002), '15', '15')).toBeNull();
    expect(changedSettings(layout({}), layout({}), '15.3', '15.4')).toBeNull();
  });
  it('reloads only when every changed setting has a sighup, superuser or user context', () => {
    expect(reloadVerdict(['work_mem', 'log_min_duration_statement'], { work_mem: 'user', log_min_duration_statement: 'superuser' }).reload).toBe(true);
    expect(reloadVerdict(['work_mem', 'shared_buffers'], { work_mem: 'user', shared_buffers: 'postmaster' })).toMatchObject({ reload: false, why: 'shared_buffers (context postmaster) needs a restart' });
    expect(reloadVerdict(['log_connections'], { log_connections: 'superuser-backend' }).reload).toBe(false);
    expect(reloadVerdict(['pg_stat_statements.track'], {}).why).toBe('pg_stat_statements.track (unknown to the server) needs a restart');
    expect(reloadVerdict(null, {}).reload).toBe(false);
  });
});

describe('postgres kind against a real server', () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startTestPostgres({ stack: 'kind-test', settings: { fsync: 'off', work_mem: '8MB' } });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('initdb made a scram-authenticated cluster in the volume, with the app role owning its database', async () => {
    const data = join(db.ctx.volumePath!, 'data');
    expect(readFileSync(join(data, 'PG_VERSION'), 'utf8').trim()).toBe('15');
    expect(readFileSync(join(data, 'pg_hba.conf'), 'utf8')).toMatch(/host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const r = await client.query('SELECT current_user AS u, current_database() AS d, current_setting(\'work_mem\') AS w, pg_is_in_recovery() AS rec');
      expect(r.rows[0]).toEqual({ u: 'kind_test', d: 'kind_test', w: '8MB', rec: false });
      const su = await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
      expect(su.rows[0].rolsuper).toBe(false);
    } finally {
      await client.end();
    }
    const bad = new pg.Client({ connectionString: db.url.replace(db.password, 'wrong') });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('probe is ok when running and names the port when not', async () => {
    const env = { POSTGRES_PASSWORD: db.password };
    const ok = await postgresKind.probe!(db.ctx, postgresKind.instances(db.ctx)[0], env);
    expect(ok).toEqual({ ok: true, detail: `127.0.0.1:${db.port} accepts connections, not in recovery` });
    await db.stop();
    const down = await postgresKind.probe!(db.ctx, postgresKind.instances(db.ctx)[0], env);
    expect(down.ok).toBe(false);
    expect(down.detail).toContain(`127.0.0.1:${db.port}`);
  });

  it('restarts in place on the same volume keeping data; prepare is idempotent', async () => {
    const marker = statSync(join(db.ctx.volumePath!, '.symphony-bootstrap')).mtimeMs;
    await db.start();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE kept (id int primary key)');
    await client.query('INSERT INTO kept VALUES (1), (2)');
    await client.end();
    await db.stop();
    await db.start();
    const again = new pg.Client({ connectionString: db.url });
    await again.connect();
    const r = await again.query('SELECT count(*)::int AS n FROM kept');
    await again.end();
    expect(r.rows[0].n).toBe(2);
    expect(statSync(join(db.ctx.volumePath!, '.symphony-bootstrap')).mtimeMs).toBe(marker);
    expect(existsSync(join(db.ctx.volumePath!, 'run'))).toBe(true);
  });

  it('prepare refuses without a resolved password', async () => {
    await expect(postgresKind.prepare!(db.ctx, { POSTGRES_PASSWORD: '${secrets.db.password}' }, db.driver)).rejects.toThrow(/missing or unresolved/);
  });
});
