import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { columnsOf, startOpsDb, type OpsDb } from './helpers/migrate-ops.js';

let t: OpsDb;

beforeAll(async () => {
  t = await startOpsDb('opscol');
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.reset(`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price int NOT NULL DEFAULT 1, doc tsvector);
    INSERT INTO items (name, price, doc) SELECT 'item' || g, g, to_tsvector('word' || g) FROM generate_series(1, 12) g`);
});

const relfilenode = async () => (await t.q<{ n: string }>(`SELECT relfilenode::text AS n FROM pg_class WHERE oid = 'items'::regclass`))[0].n;

describe('rename_column (pgroll from/to) under version_schema', () => {
  const m = `version_schema: items_v2\noperations:\n  - rename_column: { table: items, from: name, to: title }\n`;

  it('both versions read and write, complete renames the column', async () => {
    const res = await t.start('0001_rename', m, async (old, neu) => {
      await old.query(`INSERT INTO items (name) VALUES ('from-old')`);
      await neu.query(`INSERT INTO items (title) VALUES ('from-new')`);
      expect((await neu.query(`SELECT title FROM items WHERE title LIKE 'from-%' ORDER BY id`)).rows.map((r) => r.title)).toEqual(['from-old', 'from-new']);
      expect((await old.query(`SELECT name FROM items WHERE name LIKE 'from-%' ORDER BY id`)).rows.map((r) => r.name)).toEqual(['from-old', 'from-new']);
    });
    expect(res.schema).toBe('public_items_v2');
    await t.engine.complete();
    expect(await columnsOf(t.admin, 'items')).toEqual(['id', 'title', 'price', 'doc']);
    expect((await t.engine.status()).current).toBe('public_items_v2');
  });

  it('rollback leaves the column as it was', async () => {
    await t.start('0001_rename', m, async (_old, neu) => {
      await neu.query(`INSERT INTO items (title) VALUES ('kept')`);
    });
    await t.engine.rollback();
    expect(await columnsOf(t.admin, 'items')).toEqual(['id', 'name', 'price', 'doc']);
    expect(await t.q(`SELECT name FROM items WHERE name = 'kept'`)).toEqual([{ name: 'kept' }]);
  });
});

describe('add_column with a volatile default', () => {
  const m = `operations:\n  - add_column: { table: items, column: { name: token, type: uuid, default: gen_random_uuid() } }\n  - add_column: { table: items, column: { name: kind, type: text, default: "'plain'" } }\n`;

  it('fills existing rows one value each without rewriting the table; both versions insert', async () => {
    const before = await relfilenode();
    const res = await t.start('0002_token', m, async (old, neu) => {
      await old.query(`INSERT INTO items (name) VALUES ('old-row')`);
      await neu.query(`INSERT INTO items (name) VALUES ('new-row')`);
      const rows = (await neu.query(`SELECT token, kind FROM items`)).rows;
      expect(rows).toHaveLength(14);
      expect(new Set(rows.map((r) => r.token)).size).toBe(14);
      expect(rows.every((r) => r.token !== null && r.kind === 'plain')).toBe(true);
    });
    expect(res.backfilled).toEqual({ items: 12 });
    expect(await relfilenode()).toBe(before);
    await t.engine.complete();
    const col = await t.q(`SELECT attnotnull, pg_get_expr(d.adbin, d.adrelid) AS dflt FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = 'items'::regclass AND attname = 'token'`);
    expect(col).toEqual([{ attnotnull: true, dflt: 'gen_random_uuid()' }]);
  });

  it('rollback keeps the new column aside', async () => {
    await t.start('0002_token', m, async (old) => {
      await old.query(`INSERT INTO items (name) VALUES ('during')`);
    });
    const rb = await t.engine.rollback();
    expect(rb.movedAside.map((x) => x.to)).toEqual(['_sym_rolled_back_0002_token_token', '_sym_rolled_back_0002_token_kind']);
    expect((await t.q<{ n: number }>(`SELECT count(_sym_rolled_back_0002_token_token)::int AS n FROM items`))[0].n).toBe(13);
  });
});

describe('create_index: columns as a map with sort, nulls, collate and opclass; method, storage parameters, predicate, unique', () => {
  const m = `operations:
  - rename_column: { table: items, from: price, to: cost }
  - create_index:
      name: items_name_cost
      table: items
      unique: true
      columns:
        name: { sort: DESC, nulls: LAST, collate: C }
        cost: {}
      storage_parameters: fillfactor=70
      predicate: cost > 0
  - create_index:
      name: items_doc
      table: items
      method: gist
      columns:
        doc: { opclass: { name: tsvector_ops, params: [siglen=16] } }
  - create_index: { name: items_name_pattern, table: items, columns: [{ column: name, opclass: { name: text_pattern_ops } }] }
`;
  const indexdef = async (name: string) => (await t.q<{ d: string }>(`SELECT pg_get_indexdef('${name}'::regclass) AS d`))[0].d;

  it('builds each index as written; unique holds for both versions; complete keeps them', async () => {
    await t.start('0003_indexes', m, async (old, neu) => {
      await old.query(`INSERT INTO items (name, price) VALUES ('a', 5)`);
      await neu.query(`INSERT INTO items (name, cost) VALUES ('b', 5)`);
      await expect(neu.query(`INSERT INTO items (name, cost) VALUES ('a', 5)`)).rejects.toThrow(/items_name_cost/);
      await expect(old.query(`INSERT INTO items (name, price) VALUES ('b', 5)`)).rejects.toThrow(/items_name_cost/);
      await neu.query(`INSERT INTO items (name, cost) VALUES ('b', -5), ('b', -5)`);
    });
    expect(await indexdef('items_name_cost')).toBe('CREATE UNIQUE INDEX items_name_cost ON public.items USING btree (name COLLATE "C" DESC NULLS LAST, price) WITH (fillfactor=\'70\') WHERE (price > 0)');
    expect(await indexdef('items_doc')).toBe('CREATE INDEX items_doc ON public.items USING gist (doc tsvector_ops (siglen=\'16\'))');
    expect(await indexdef('items_name_pattern')).toBe('CREATE INDEX items_name_pattern ON public.items USING btree (name text_pattern_ops)');
    await t.engine.complete();
    expect(await indexdef('items_name_cost')).toMatch(/\(name COLLATE "C" DESC NULLS LAST, cost\)/);
  });

  it('rollback drops the indexes', async () => {
    await t.start('0003_indexes', m);
    await t.engine.rollback();
    expect(await t.q(`SELECT relname FROM pg_class WHERE relname LIKE 'items\\_%' AND relkind = 'i' ORDER BY 1`)).toEqual([{ relname: 'items_pkey' }]);
  });
});

describe('set_replica_identity', () => {
  const identity = async () => (await t.q<{ r: string }>(`SELECT relreplident AS r FROM pg_class WHERE oid = 'items'::regclass`))[0].r;

  it('is set at start for both versions and kept by complete', async () => {
    await t.start('0004_identity', `operations:\n  - set_replica_identity: { table: items, identity: { type: full } }\n`, async (old, neu) => {
      await old.query(`UPDATE items SET name = 'o' WHERE id = 1`);
      await neu.query(`UPDATE items SET name = 'n' WHERE id = 2`);
    });
    expect(await identity()).toBe('f');
    await t.engine.complete();
    expect(await identity()).toBe('f');
  });

  it('an index identity is undone by rollback', async () => {
    await t.admin.query(`CREATE UNIQUE INDEX items_name_key ON items (name)`);
    await t.start('0005_identity', `operations:\n  - set_replica_identity: { table: items, identity: { type: index, index: items_name_key } }\n`);
    expect(await t.q(`SELECT indisreplident FROM pg_index WHERE indexrelid = 'items_name_key'::regclass`)).toEqual([{ indisreplident: true }]);
    await t.engine.rollback();
    expect(await identity()).toBe('d');
  });
});
