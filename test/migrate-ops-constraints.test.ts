import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnsOf, constraintsOf, startOpsDb, type OpsDb } from './helpers/migrate-ops.js';

let t: OpsDb;

beforeAll(async () => {
  t = await startOpsDb('opscon');
});
afterAll(async () => t?.close());

const CREATE_FIXTURE = `CREATE TABLE owners (id int PRIMARY KEY); INSERT INTO owners VALUES (1), (2);
  CREATE TABLE accounts (id serial PRIMARY KEY, email text CONSTRAINT email_has_at CHECK (email LIKE '%@%'), balance int NOT NULL DEFAULT 0, owner int);
  CREATE INDEX accounts_owner_idx ON accounts (owner) WHERE owner IS NOT NULL;
  INSERT INTO accounts (email, balance, owner) SELECT 'a' || g || '@x', g - 3, 1 + g % 2 FROM generate_series(1, 11) g;
  CREATE TABLE events (code text, seq int, note text); INSERT INTO events VALUES ('a', 1, 'one'), (NULL, 2, 'two');`;

const CREATE = `operations:
  - create_constraint: { table: accounts, name: accounts_email_unique, type: unique, columns: [email], nulls_not_distinct: true }
  - create_constraint:
      table: accounts
      name: accounts_balance_nonneg
      type: check
      columns: [balance]
      check: balance >= 0
      up: { balance: "greatest(balance, 0)" }
      down: { balance: balance }
  - create_constraint:
      table: accounts
      name: accounts_owner_fk
      type: foreign_key
      columns: [owner]
      references: { table: owners, columns: [id], on_delete: SET NULL }
      up: { owner: "SELECT CASE WHEN EXISTS (SELECT 1 FROM owners o WHERE o.id = owner) THEN owner END" }
  - create_constraint:
      table: events
      name: events_pkey
      type: primary_key
      columns: [code, seq]
      up: { code: "coalesce(code, 'none')" }
`;

describe('create_constraint: unique, check, foreign key and primary key on copies of the columns', () => {
  it('the old version keeps writing what the constraints refuse; the new version sees the up values; complete validates and attaches them', async () => {
    await t.reset(CREATE_FIXTURE);
    await t.start('0001_constraints', CREATE, async (old, neu) => {
      expect((await neu.query(`SELECT balance FROM accounts WHERE id = 1`)).rows).toEqual([{ balance: 0 }]);
      expect((await old.query(`SELECT balance FROM accounts WHERE id = 1`)).rows).toEqual([{ balance: -2 }]);
      await old.query(`INSERT INTO accounts (email, balance, owner) VALUES ('old@x', -5, 999)`);
      expect((await neu.query(`SELECT balance, owner FROM accounts WHERE email = 'old@x'`)).rows).toEqual([{ balance: 0, owner: null }]);
      await expect(neu.query(`INSERT INTO accounts (email, balance) VALUES ('neg@x', -1)`)).rejects.toThrow(/accounts_balance_nonneg/);
      await expect(neu.query(`INSERT INTO accounts (email, owner) VALUES ('fk@x', 999)`)).rejects.toThrow(/accounts_owner_fk/);
      await expect(neu.query(`INSERT INTO accounts (email) VALUES ('a1@x')`)).rejects.toThrow(/accounts_email_unique/);
      await expect(neu.query(`INSERT INTO accounts (email) VALUES ('no-at')`)).rejects.toThrow(/email_has_at/);
      await neu.query(`INSERT INTO accounts (email, balance, owner) VALUES ('new@x', 7, 2)`);
      expect((await old.query(`SELECT balance, owner FROM accounts WHERE email = 'new@x'`)).rows).toEqual([{ balance: 7, owner: 2 }]);
      await old.query(`INSERT INTO events VALUES (NULL, 3, 'old-null')`);
      expect((await neu.query(`SELECT code FROM events WHERE seq = 3`)).rows).toEqual([{ code: 'none' }]);
      await expect(neu.query(`INSERT INTO events VALUES ('a', 1, 'dup')`)).rejects.toThrow(/events_pkey/);
      await neu.query(`INSERT INTO events VALUES ('b', 1, 'new')`);
      expect((await old.query(`SELECT code FROM events WHERE note = 'new'`)).rows).toEqual([{ code: 'b' }]);
    });
    await t.engine.complete();
    expect(await columnsOf(t.admin, 'accounts')).toEqual(['id', 'email', 'balance', 'owner']);
    expect(await constraintsOf(t.admin, 'accounts')).toEqual(['accounts_balance_nonneg:c', 'accounts_email_unique:u', 'accounts_owner_fk:f', 'accounts_pkey:p', 'email_has_at:c']);
    expect(await t.q(`SELECT pg_get_indexdef('accounts_owner_idx'::regclass) AS d`)).toEqual([{ d: 'CREATE INDEX accounts_owner_idx ON public.accounts USING btree (owner) WHERE (owner IS NOT NULL)' }]);
    await expect(t.admin.query(`INSERT INTO accounts (email) VALUES ('still-no-at')`)).rejects.toThrow(/email_has_at/);
    expect(await constraintsOf(t.admin, 'events')).toEqual(['events_pkey:p']);
    expect(await t.q(`SELECT convalidated AS v FROM pg_constraint WHERE conname IN ('accounts_balance_nonneg', 'accounts_owner_fk')`)).toEqual([{ v: true }, { v: true }]);
    expect(await t.q(`SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname IN ('code', 'seq') ORDER BY attname`)).toEqual([{ attname: 'code', attnotnull: true }, { attname: 'seq', attnotnull: true }]);
    expect(await t.q(`SELECT count(*)::int AS n FROM accounts WHERE balance < 0`)).toEqual([{ n: 0 }]);
  });

  it('rollback keeps the copies aside and the old version writes as before', async () => {
    await t.reset(CREATE_FIXTURE);
    await t.start('0001_constraints', CREATE, async (_old, neu) => {
      await neu.query(`INSERT INTO accounts (email, balance) VALUES ('new@x', 3)`);
    });
    const rb = await t.engine.rollback();
    expect(rb.movedAside.map((x) => x.from)).toEqual(['_sym_new_email', '_sym_new_balance', '_sym_new_owner', '_sym_new_code', '_sym_new_seq']);
    expect(await constraintsOf(t.admin, 'accounts')).toEqual(['accounts_pkey:p', 'email_has_at:c']);
    expect(await t.q(`SELECT relname FROM pg_class WHERE relkind = 'i' AND relname LIKE '%accounts%' ORDER BY 1`)).toEqual([{ relname: 'accounts_owner_idx' }, { relname: 'accounts_pkey' }]);
    expect(await constraintsOf(t.admin, 'events')).toEqual([]);
    await t.admin.query(`INSERT INTO accounts (email, balance) VALUES ('a1@x', -9)`);
    expect(await t.q(`SELECT balance FROM accounts WHERE email = 'new@x'`)).toEqual([{ balance: 3 }]);
  });
});

const DROP_FIXTURE = `CREATE TABLE owners (id int PRIMARY KEY); INSERT INTO owners VALUES (1);
  CREATE TABLE tickets (id serial PRIMARY KEY, a int NOT NULL, b int NOT NULL, price int, ref int, code text,
    CONSTRAINT ab_check CHECK (a < b), CONSTRAINT price_pos CHECK (price > 0), CONSTRAINT ref_fk FOREIGN KEY (ref) REFERENCES owners (id), CONSTRAINT code_key UNIQUE (code));
  INSERT INTO tickets (a, b, price, ref, code) SELECT g, g + 1, g, 1, 'c' || g FROM generate_series(1, 6) g;`;

const DROP = `operations:
  - drop_multicolumn_constraint:
      table: tickets
      name: ab_check
      down: { a: "CASE WHEN a < b THEN a ELSE b - 1 END", b: b }
  - drop_constraint: { table: tickets, name: price_pos, up: price, down: "SELECT greatest(price, 1)" }
  - drop_multicolumn_constraint: { table: tickets, name: ref_fk, down: { ref: "CASE WHEN EXISTS (SELECT 1 FROM owners o WHERE o.id = ref) THEN ref END" } }
  - rename_constraint: { table: tickets, from: code_key, to: tickets_code_unique }
`;

describe('drop_multicolumn_constraint, drop_constraint and rename_constraint', () => {
  it('the new version writes what the old constraints refused, the old version sees down values; complete drops them', async () => {
    await t.reset(DROP_FIXTURE);
    await t.start('0002_drop', DROP, async (old, neu) => {
      await neu.query(`INSERT INTO tickets (a, b, price, ref, code) VALUES (9, 2, -3, 42, 'n1')`);
      expect((await old.query(`SELECT a, b, price, ref FROM tickets WHERE code = 'n1'`)).rows).toEqual([{ a: 1, b: 2, price: 1, ref: null }]);
      expect((await neu.query(`SELECT a, b, price, ref FROM tickets WHERE code = 'n1'`)).rows).toEqual([{ a: 9, b: 2, price: -3, ref: 42 }]);
      await expect(old.query(`INSERT INTO tickets (a, b, price, code) VALUES (9, 2, 1, 'o1')`)).rejects.toThrow(/ab_check/);
      await old.query(`INSERT INTO tickets (a, b, price, code) VALUES (1, 5, 4, 'o2')`);
      expect((await neu.query(`SELECT a, b, price FROM tickets WHERE code = 'o2'`)).rows).toEqual([{ a: 1, b: 5, price: 4 }]);
      await expect(neu.query(`INSERT INTO tickets (a, b, code) VALUES (1, 2, 'o2')`)).rejects.toThrow(/code_key/);
    });
    await t.engine.complete();
    expect(await constraintsOf(t.admin, 'tickets')).toEqual(['tickets_code_unique:u', 'tickets_pkey:p']);
    expect(await t.q(`SELECT a, b, price, ref FROM tickets WHERE code = 'n1'`)).toEqual([{ a: 9, b: 2, price: -3, ref: 42 }]);
    expect(await t.q(`SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'tickets'::regclass AND attname IN ('a', 'b') ORDER BY attname`)).toEqual([{ attname: 'a', attnotnull: true }, { attname: 'b', attnotnull: true }]);
  });

  it('rollback keeps the constraints and names, and the copies aside', async () => {
    await t.reset(DROP_FIXTURE);
    await t.start('0002_drop', DROP, async (_old, neu) => {
      await neu.query(`INSERT INTO tickets (a, b, price, code) VALUES (9, 2, -3, 'n1')`);
    });
    await t.engine.rollback();
    expect(await constraintsOf(t.admin, 'tickets')).toEqual(['ab_check:c', 'code_key:u', 'price_pos:c', 'ref_fk:f', 'tickets_pkey:p']);
    expect(await t.q(`SELECT a, _sym_rolled_back_0002_drop__sym_new_a AS kept FROM tickets WHERE code = 'n1'`)).toEqual([{ a: 1, kept: 9 }]);
    await expect(t.admin.query(`INSERT INTO tickets (a, b, price) VALUES (3, 1, 1)`)).rejects.toThrow(/ab_check/);
  });
});
