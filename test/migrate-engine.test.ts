import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MigrationEngine, MigrationInFlightError, BackfillError, parseMigration, connectionOptionsFor, type Migration } from '../src/migrate/index.js';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.js';

let db: TestPostgres;
let admin: pg.Client;
let engine: MigrationEngine;

function migration(name: string, yaml: string): Migration {
  return parseMigration(yaml, `${name}.yaml`);
}

async function versionClient(schema: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url, options: connectionOptionsFor(schema).options });
  await c.connect();
  return c;
}

async function columns(table: string): Promise<string[]> {
  const r = await admin.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table]);
  return r.rows.map((x) => x.attname);
}

beforeAll(async () => {
  db = await startTestPostgres({ stack: 'mig' });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  engine = new MigrationEngine(db.url, { batchSize: 7 });
});

afterAll(async () => {
  await admin?.end();
  await engine?.close();
  await db?.destroy();
});

beforeEach(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS symphony_migrations CASCADE`);
  const schemas = await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_%'`);
  for (const s of schemas.rows) await admin.query(`DROP SCHEMA "${s.nspname}" CASCADE`);
  await admin.query(`DROP TABLE IF EXISTS users, orders CASCADE`);
  await admin.query(`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, age text)`);
  await admin.query(`INSERT INTO users (name, age) SELECT 'user' || g, (g * 3)::text FROM generate_series(1, 40) g`);
});

const EXPAND = `operations:
  - add_column: { table: users, column: { name: email, type: text, nullable: false }, up: "name || '@example.com'" }
  - rename_column: { table: users, column: name, name: full_name }
  - alter_column: { table: users, column: age, type: integer, nullable: false, up: "COALESCE(age::integer, 0)", down: "age::text" }
  - create_table: { name: orders, columns: [ { name: id, type: serial, pk: true }, { name: user_id, type: integer, references: { name: orders_user_fk, table: users, column: id } } ] }
  - create_index: { name: users_email_idx, table: users, columns: [email] }
`;

describe('expand/contract with old and new versions writing at once', () => {
  it('start exposes both versions consistently, complete contracts', async () => {
    const res = await engine.start(migration('0001_expand', EXPAND));
    expect(res).toMatchObject({ schema: 'public_0001_expand', previousSchema: 'public_baseline', backfilled: { users: 40 } });
    const oldC = await versionClient(res.previousSchema);
    const newC = await versionClient(res.schema);
    try {
      const backfilled = await newC.query('SELECT full_name, email, age FROM users WHERE id = 2');
      expect(backfilled.rows[0]).toEqual({ full_name: 'user2', email: 'user2@example.com', age: 6 });
      await Promise.all([
        oldC.query(`INSERT INTO users (name, age) VALUES ('old-writer', '41')`),
        newC.query(`INSERT INTO users (full_name, email, age) VALUES ('new-writer', 'nw@x', 52)`),
        oldC.query(`UPDATE users SET age = '100' WHERE id = 1`),
        newC.query(`UPDATE users SET full_name = 'renamed-by-new' WHERE id = 3`),
      ]);
      const fromNew = await newC.query(`SELECT full_name, email, age FROM users WHERE full_name IN ('old-writer', 'user1') ORDER BY id`);
      expect(fromNew.rows).toEqual(expect.arrayContaining([{ full_name: 'user1', email: 'user1@example.com', age: 100 }, { full_name: 'old-writer', email: 'old-writer@example.com', age: 41 }]));
      expect(fromNew.rows).toHaveLength(2);
      const fromOld = await oldC.query(`SELECT * FROM users WHERE name IN ('new-writer', 'renamed-by-new') ORDER BY name`);
      expect(fromOld.rows).toEqual([{ id: expect.any(Number), name: 'new-writer', age: '52' }, { id: 3, name: 'renamed-by-new', age: '9' }]);
      await expect(newC.query(`INSERT INTO users (full_name, age) VALUES ('no-email', 1)`)).rejects.toThrow(/violates check constraint/);
      await newC.query(`INSERT INTO orders (user_id) SELECT id FROM users WHERE full_name = 'new-writer'`);
      await expect(oldC.query('SELECT * FROM orders')).rejects.toThrow(/does not exist/);
    } finally {
      await oldC.end();
      await newC.end();
    }
    const done = await engine.complete();
    expect(done.droppedSchema).toBe('public_baseline');
    expect(await columns('users')).toEqual(['id', 'full_name', 'email', 'age']);
    const nn = await admin.query(`SELECT attname, attnotnull, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname IN ('email', 'age') ORDER BY attname`);
    expect(nn.rows).toEqual([{ attname: 'age', attnotnull: true, t: 'integer' }, { attname: 'email', attnotnull: true, t: 'text' }]);
    const after = await versionClient('public_0001_expand');
    try {
      const all = await after.query('SELECT count(*)::int AS n, count(email)::int AS e FROM users');
      expect(all.rows[0]).toEqual({ n: 42, e: 42 });
    } finally {
      await after.end();
    }
    const idx = await admin.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass`);
    expect(idx.rows[0].indisvalid).toBe(true);
    const triggers = await admin.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal`);
    expect(triggers.rows[0].n).toBe(0);
    expect((await engine.status()).current).toBe('public_0001_expand');
  });

  it('rollback keeps every row either version wrote, moving new columns and tables aside', async () => {
    const res = await engine.start(migration('0002_expand', EXPAND));
    const oldC = await versionClient(res.previousSchema);
    const newC = await versionClient(res.schema);
    try {
      await oldC.query(`INSERT INTO users (name, age) VALUES ('old-writer', '7')`);
      await newC.query(`INSERT INTO users (full_name, email, age) VALUES ('new-writer', 'kept@x', 8)`);
      await newC.query(`INSERT INTO orders (user_id) VALUES (1), (2)`);
    } finally {
      await oldC.end();
      await newC.end();
    }
    const rb = await engine.rollback();
    expect(rb.movedAside).toEqual([
      { kind: 'column', table: 'users', from: 'email', to: '_sym_rolled_back_0002_expand_email' },
      { kind: 'column', table: 'users', from: '_sym_new_age', to: '_sym_rolled_back_0002_expand__sym_new_age' },
      { kind: 'table', table: 'orders', from: 'orders', to: '_sym_rolled_back_0002_expand_orders' },
    ]);
    expect(await columns('users')).toEqual(['id', 'name', 'age', '_sym_rolled_back_0002_expand_email', '_sym_rolled_back_0002_expand__sym_new_age']);
    const kept = await admin.query(`SELECT name, age, _sym_rolled_back_0002_expand_email AS email FROM users WHERE name LIKE '%writer' ORDER BY id`);
    expect(kept.rows).toEqual([{ name: 'old-writer', age: '7', email: 'old-writer@example.com' }, { name: 'new-writer', age: '8', email: 'kept@x' }]);
    expect((await admin.query('SELECT count(*)::int AS n FROM _sym_rolled_back_0002_expand_orders')).rows[0].n).toBe(2);
    const oldAgain = await versionClient(res.previousSchema);
    try {
      await oldAgain.query(`INSERT INTO users (name) VALUES ('after-rollback')`);
      expect((await oldAgain.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(43);
    } finally {
      await oldAgain.end();
    }
    const st = await engine.status();
    expect(st.inFlight).toBeNull();
    expect(st.versions.find((v) => v.name === '0002_expand')).toMatchObject({ status: 'rolled-back', movedAside: rb.movedAside });
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'public_0002_expand'`)).rows[0].n).toBe(0);
  });

  it('drop_column with down and raw sql with up/down', async () => {
    const drop = await engine.start(migration('0003_drop', `operations:\n  - drop_column: { table: users, column: name, down: "'from-new-' || id" }\n`));
    const newC = await versionClient(drop.schema);
    try {
      expect(Object.keys((await newC.query('SELECT * FROM users LIMIT 1')).rows[0])).toEqual(['id', 'age']);
      await newC.query(`INSERT INTO users (age) VALUES ('5')`);
    } finally {
      await newC.end();
    }
    expect((await admin.query(`SELECT name FROM users WHERE age = '5'`)).rows[0].name).toMatch(/^from-new-\d+$/);
    await engine.complete();
    expect(await columns('users')).toEqual(['id', 'age']);
    const sql = await engine.start(migration('0004_sql', `operations:\n  - sql: { up: "CREATE TABLE audit (id int PRIMARY KEY)", down: "DROP TABLE audit" }\n`));
    const c = await versionClient(sql.schema);
    try {
      await c.query('INSERT INTO audit VALUES (1)');
    } finally {
      await c.end();
    }
    await engine.rollback();
    expect((await admin.query(`SELECT to_regclass('audit') AS r`)).rows[0].r).toBeNull();
  });
});

describe('refusals', () => {
  it('a second migration while one is in flight names the one in flight', async () => {
    await engine.start(migration('0010_first', `operations:\n  - add_column: { table: users, column: { name: note, type: text, nullable: true } }\n`));
    const second = engine.start(migration('0011_second', `operations:\n  - rename_column: { table: users, column: age, name: years }\n`));
    await expect(second).rejects.toBeInstanceOf(MigrationInFlightError);
    await expect(second).rejects.toThrow(/migration 0010_first is in flight/);
    await engine.rollback();
  });

  it('an up expression failing on one row names its key and leaves the table unchanged', async () => {
    await admin.query(`UPDATE users SET age = 'not a number' WHERE id = 23`);
    const before = await admin.query('SELECT * FROM users ORDER BY id');
    const m = migration('0012_bad_up', `operations:\n  - alter_column: { table: users, column: age, type: integer, up: "age::integer", down: "age::text" }\n`);
    const err = await engine.start(m).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackfillError);
    expect((err as Error).message).toMatch(/backfill of table users failed on row id=23: invalid input syntax for type integer/);
    expect(await columns('users')).toEqual(['id', 'name', 'age']);
    expect((await admin.query('SELECT * FROM users ORDER BY id')).rows).toEqual(before.rows);
    const st = await engine.status();
    expect(st.inFlight).toBeNull();
    expect(st.versions.find((v) => v.name === '0012_bad_up')?.status).toBe('failed');
  });

  it('operations on missing tables or columns are refused before anything changes', async () => {
    await expect(engine.start(migration('0013', `operations:\n  - add_column: { table: nope, column: { name: x, type: int, nullable: true } }\n`))).rejects.toThrow(/table nope does not exist/);
    await expect(engine.start(migration('0014', `operations:\n  - rename_column: { table: users, column: nope, name: y }\n`))).rejects.toThrow(/table users has no column nope/);
    expect((await engine.status()).inFlight).toBeNull();
  });
});
