import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.js';
import { lintSql } from '../src/migrate/lint/index.js';
import { rewriteFree } from '../src/migrate/lint/rules/type-change.js';
import { columnType } from '../src/migrate/lint/ast.js';
import { parse } from 'libpg-query';

/**
 * The linter's claims about what rewrites a table, checked against a real
 * Postgres 15 started for this test: a rewrite gives the table a new
 * relfilenode, a catalog-only change keeps it.
 */
let server: TestPostgres;
let client: pg.Client;

async function typeOf(sql: string): Promise<ReturnType<typeof columnType>> {
  const stmt = (await parse(`SELECT NULL::${sql}`)).stmts?.[0]?.stmt;
  const target = stmt && 'SelectStmt' in stmt ? stmt.SelectStmt.targetList?.[0] : undefined;
  const val = target && 'ResTarget' in target ? target.ResTarget.val : undefined;
  if (!val || !('TypeCast' in val)) throw new Error(`not a type: ${sql}`);
  return columnType(val.TypeCast.typeName);
}

async function rewrites(alter: string, setup: string): Promise<boolean> {
  await client.query('DROP TABLE IF EXISTS t; ' + setup + '; INSERT INTO t SELECT FROM generate_series(1, 10)');
  const before = await client.query<{ f: string }>("SELECT pg_relation_filenode('t')::text AS f");
  await client.query(alter);
  const after = await client.query<{ f: string }>("SELECT pg_relation_filenode('t')::text AS f");
  return before.rows[0].f !== after.rows[0].f;
}

beforeAll(async () => {
  server = await startTestPostgres({ stack: 'lint' });
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
  // timestamp → timestamptz skips the rewrite only when the session TimeZone is UTC (Postgres 12+);
  // the linter cannot know the runner's TimeZone, so it assumes the general case.
  await client.query("SET TimeZone = 'Europe/Paris'");
}, 60_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await server?.destroy();
});

describe('migration lint claims, against a real Postgres', () => {
  const pairs: Array<[string, string]> = [
    ['varchar(10)', 'varchar(20)'],
    ['varchar(10)', 'text'],
    ['varchar(10)', 'varchar'],
    ['text', 'varchar'],
    ['varchar(20)', 'varchar(10)'],
    ['numeric(10,2)', 'numeric(12,2)'],
    ['numeric(10,2)', 'numeric'],
    ['numeric(10,2)', 'numeric(12,3)'],
    ['cidr', 'inet'],
    ['integer', 'bigint'],
    ['text', 'varchar(50)'],
    ['timestamp', 'timestamptz'],
    ['varbit(4)', 'varbit(8)'],
  ];
  for (const [from, to] of pairs) {
    it(`ALTER COLUMN TYPE ${from} → ${to}: the linter's rewrite verdict matches Postgres`, async () => {
      const value = from === 'cidr' ? "'10.0.0.0/8'" : from.startsWith('varbit') ? "B'1010'" : from === 'timestamp' ? 'now()' : '1';
      const rewrote = await rewrites(`ALTER TABLE t ALTER COLUMN c TYPE ${to}`, `CREATE TABLE t (c ${from} DEFAULT ${value})`);
      expect(rewriteFree(await typeOf(from), await typeOf(to))).toBe(!rewrote);
    });
  }

  it('ADD COLUMN: a volatile default rewrites and is flagged; now() and constants do not and are not', async () => {
    const cases: Array<[string, boolean]> = [
      ['ADD COLUMN x uuid DEFAULT gen_random_uuid()', true],
      ['ADD COLUMN x float8 DEFAULT random()', true],
      ['ADD COLUMN x timestamptz DEFAULT clock_timestamp()', true],
      ['ADD COLUMN x bigserial', true],
      ['ADD COLUMN x timestamptz DEFAULT now()', false],
      ['ADD COLUMN x timestamptz NOT NULL DEFAULT current_timestamp', false],
      ['ADD COLUMN x text NOT NULL DEFAULT \'a\'', false],
    ];
    for (const [cmd, volatile] of cases) {
      const rewrote = await rewrites(`ALTER TABLE t ${cmd}`, 'CREATE TABLE t (id int)');
      expect(rewrote, cmd).toBe(volatile);
      const findings = await lintSql(`SET lock_timeout = '1s';\nALTER TABLE t ${cmd};`, 'x.sql');
      expect(findings.map((f) => f.rule), cmd).toEqual(volatile ? ['add-column-volatile-default'] : []);
    }
  });

  it('the recommended SET NOT NULL sequence runs on Postgres and needs no table rewrite', async () => {
    await client.query('DROP TABLE IF EXISTS users; CREATE TABLE users (email text); INSERT INTO users SELECT g::text FROM generate_series(1, 100) g');
    const [finding] = await lintSql('SET lock_timeout = \'1s\';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;', 'x.sql');
    expect(finding.rule).toBe('set-not-null-without-check');
    for (const stmt of finding.fix.split('\n')) await client.query(stmt);
    const col = await client.query<{ attnotnull: boolean }>("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'");
    expect(col.rows[0].attnotnull).toBe(true);
    expect(await lintSql(finding.fix, 'fixed.sql', { assumeLockTimeout: true })).toEqual([]);
  });

  it('CREATE INDEX CONCURRENTLY inside BEGIN really fails as the linter says', async () => {
    await client.query('DROP TABLE IF EXISTS t; CREATE TABLE t (a int)');
    const sql = 'BEGIN;\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nCOMMIT;';
    const [finding] = await lintSql(sql, 'x.sql');
    expect(finding.rule).toBe('concurrent-index-in-transaction');
    const err = await client.query(sql).catch((e: Error) => e);
    await client.query('ROLLBACK').catch(() => undefined);
    expect(String(err)).toContain('CREATE INDEX CONCURRENTLY cannot run inside a transaction block');
    expect(finding.message).toContain('CREATE INDEX CONCURRENTLY cannot run inside a transaction block');
  });
});
