import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultRoleName, postgresLayout, PostgresKindError } from '../src/kinds/postgres/index.js';
import { MigrationEngine, connectionOptionsFor, parseMigration, versionSchemaName, type Migration } from '../src/migrate/index.js';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.js';

// A stack named `pg-shop`: the derived role would be `pg_shop`, a name Postgres reserves.
let db: TestPostgres;
let url: string;
let admin: pg.Client;
let engine: MigrationEngine;

const ADD = (name: string) => parseMigration(`operations:
  - add_column: { table: items, column: { name: label, type: text }, up: "'item-' || id" }
  - create_table: { name: tags, columns: [ { name: id, type: serial, pk: true }, { name: tag, type: text, nullable: true } ] }
`, `${name}.yaml`);

async function asVersion(schema: string, fn: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: url, options: connectionOptionsFor(schema).options });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await startTestPostgres({ stack: 'pg-shop' });
  const user = defaultRoleName('pg-shop');
  url = `postgres://${user}:${encodeURIComponent(db.password)}@127.0.0.1:${db.port}/${user}`;
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  engine = new MigrationEngine(url, { schemaPrefix: 'pg_shop' });
});

afterAll(async () => {
  await admin?.end();
  await engine?.close();
  await db?.destroy();
});

beforeEach(async () => {
  await admin.query('DROP SCHEMA IF EXISTS symphony_migrations CASCADE');
  for (const s of (await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sym\\_pg\\_shop\\_%'`)).rows) await admin.query(`DROP SCHEMA "${s.nspname}" CASCADE`);
  for (const t of (await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows) await admin.query(`DROP TABLE "${t.tablename}" CASCADE`);
  await admin.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)');
  await admin.query(`INSERT INTO items (name) SELECT 'n' || g FROM generate_series(1, 20) g`);
});

describe('names Postgres reserves are never derived', () => {
  it('a stack named pg-… gets role and database sym_pg_…, and a pg_-prefixed explicit user is refused', async () => {
    expect(defaultRoleName('pg-shop')).toBe('sym_pg_shop');
    expect(defaultRoleName('shop-pg')).toBe('shop_pg');
    const who = await admin.query('SELECT current_user AS u, current_database() AS d');
    expect(who.rows[0]).toEqual({ u: 'sym_pg_shop', d: 'sym_pg_shop' });
    const ctx = { ...db.ctx, spec: { postgres: { version: '15', user: 'pg_app' } } };
    expect(() => postgresLayout(ctx)).toThrow(PostgresKindError);
    expect(() => postgresLayout(ctx)).toThrow(/'pg_app' is reserved/);
  });

  it('version schemas under a pg_ prefix are created as sym_pg_…, and apps reach them by search_path', async () => {
    expect(versionSchemaName('pg_shop', '0001_add')).toBe('sym_pg_shop_0001_add');
    expect(versionSchemaName('PG-Shop', 'x')).toBe('sym_pg_shop_x');
    const res = await engine.start(ADD('0001_add'));
    expect(res).toMatchObject({ schema: 'sym_pg_shop_0001_add', previousSchema: 'sym_pg_shop_baseline', backfilled: { items: 20 } });
    await asVersion(res.schema, async (c) => {
      await c.query(`INSERT INTO items (name, label) VALUES ('new', 'given')`);
      expect((await c.query('SELECT label FROM items WHERE id = 3')).rows[0].label).toBe('item-3');
    });
    await engine.complete();
    expect((await admin.query(`SELECT count(*)::int AS n FROM items WHERE label IS NULL`)).rows[0].n).toBe(0);
  });
});

describe('rollback, start again, rollback again', () => {
  it('keeps both attempts\' data under distinct aside names and reports both', async () => {
    const m: Migration = ADD('0002_again');
    const first = await engine.start(m);
    await asVersion(first.schema, async (c) => {
      await c.query(`INSERT INTO items (name, label) VALUES ('first', 'first-label')`);
      await c.query(`INSERT INTO tags (tag) VALUES ('first-tag')`);
    });
    const rb1 = await engine.rollback();
    expect(rb1.movedAside.map((a) => a.to)).toEqual(['_sym_rolled_back_0002_again_label', '_sym_rolled_back_0002_again_tags']);

    const second = await engine.start(m);
    await asVersion(second.schema, async (c) => {
      await c.query(`INSERT INTO items (name, label) VALUES ('second', 'second-label')`);
      await c.query(`INSERT INTO tags (tag) VALUES ('second-tag')`);
    });
    const rb2 = await engine.rollback();
    expect(rb2.movedAside).toEqual([
      { kind: 'column', table: 'items', from: 'label', to: '_sym_rolled_back_0002_again_label_2' },
      { kind: 'table', table: 'tags', from: 'tags', to: '_sym_rolled_back_0002_again_tags_2' },
    ]);
    const kept = await admin.query(`SELECT name, _sym_rolled_back_0002_again_label AS a, _sym_rolled_back_0002_again_label_2 AS b FROM items WHERE name IN ('first', 'second') ORDER BY id`);
    expect(kept.rows).toEqual([
      { name: 'first', a: 'first-label', b: 'item-' + (await idOf('first')) },
      { name: 'second', a: null, b: 'second-label' },
    ]);
    expect((await admin.query('SELECT tag FROM _sym_rolled_back_0002_again_tags')).rows).toEqual([{ tag: 'first-tag' }]);
    expect((await admin.query('SELECT tag FROM _sym_rolled_back_0002_again_tags_2')).rows).toEqual([{ tag: 'second-tag' }]);
    const rec = (await engine.status()).versions.find((v) => v.name === '0002_again');
    expect(rec).toMatchObject({ status: 'rolled-back', movedAside: [...rb1.movedAside, ...rb2.movedAside] });

    // A third round still works, and the old version never saw any of it.
    await engine.start(m);
    expect((await engine.rollback()).movedAside.map((a) => a.to)).toEqual(['_sym_rolled_back_0002_again_label_3', '_sym_rolled_back_0002_again_tags_3']);
    await asVersion(first.previousSchema, async (c) => {
      expect(Object.keys((await c.query('SELECT * FROM items LIMIT 1')).rows[0])).toEqual(['id', 'name']);
    });
  });
});

async function idOf(name: string): Promise<number> {
  return (await admin.query('SELECT id FROM items WHERE name = $1', [name])).rows[0].id;
}
