import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextBatchSize } from '../src/migrate/backfill.js';
import { MigrationEngine, connectionOptionsFor, parseMigration, planMigration, readLayout, type Migration } from '../src/migrate/index.js';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.js';

let db: TestPostgres;
let admin: pg.Client;
let engine: MigrationEngine;

const ADD_LABEL = parseMigration(`operations:
  - add_column: { table: items, column: { name: label, type: text, nullable: true }, up: "'item-' || id" }
`, '0001_label.yaml');

beforeAll(async () => {
  db = await startTestPostgres({ stack: 'fill' });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  engine = new MigrationEngine(db.url, { batchSize: 50 });
});

afterAll(async () => {
  await admin?.end();
  await engine?.close();
  await db?.destroy();
});

beforeEach(async () => {
  await admin.query('DROP SCHEMA IF EXISTS symphony_migrations CASCADE');
  for (const s of (await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_%'`)).rows) await admin.query(`DROP SCHEMA "${s.nspname}" CASCADE`);
  await admin.query('DROP TABLE IF EXISTS items CASCADE');
  await admin.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)');
  await admin.query(`INSERT INTO items (name) SELECT 'n' || g FROM generate_series(1, 500) g`);
});

describe('batch sizing', () => {
  it('aims each batch at the target duration, at most doubling or halving, within bounds', () => {
    expect(nextBatchSize(1000, 10, 50)).toBe(2000);
    expect(nextBatchSize(1000, 500, 50)).toBe(500);
    expect(nextBatchSize(1000, 60, 50)).toBe(833);
    expect(nextBatchSize(40_000, 1, 50)).toBe(50_000);
    expect(nextBatchSize(150, 1000, 50)).toBe(100);
  });
});

describe('direct backfill (one fill per table)', () => {
  it('fills only rows still NULL: a resumed start keeps what the new version wrote', async () => {
    const plan = planMigration(await readLayout(admin, 'public'), ADD_LABEL, 'public_0001_label');
    expect(plan.backfillSteps).toEqual([{ table: 'items', direct: { column: 'label', value: "'item-' || id", onlyWhenNull: true } }]);
    const res = await engine.start(ADD_LABEL);
    expect(res.backfilled).toEqual({ items: 500 });
    const newC = new pg.Client({ connectionString: db.url, options: connectionOptionsFor(res.schema).options });
    await newC.connect();
    try {
      await newC.query(`UPDATE items SET label = 'from-new' WHERE id = 7`);
    } finally {
      await newC.end();
    }
    // As if the backfill had committed up to id 100 and no further: rows past it NULL
    // (written with the trigger stepped aside, as a batch does), progress at 100.
    await admin.query('BEGIN');
    try {
      await admin.query(`SELECT set_config('symphony.backfill', $1, true)`, [plan.hash]);
      await admin.query('UPDATE items SET label = NULL WHERE id > 100 AND id <= 130');
      await admin.query(`UPDATE symphony_migrations.versions SET backfill_progress = '{"items": "100"}' WHERE name = '0001_label'`);
    } finally {
      await admin.query('COMMIT');
    }
    const again = await engine.start(ADD_LABEL);
    expect(again).toMatchObject({ resumed: true, backfilled: { items: 30 } });
    const rows = await admin.query(`SELECT count(*) FILTER (WHERE label = 'item-' || id)::int AS filled, max(label) FILTER (WHERE id = 7) AS kept FROM items`);
    expect(rows.rows[0]).toEqual({ filled: 499, kept: 'from-new' });
    // Other sessions (no flag) still go through the trigger.
    await admin.query(`INSERT INTO items (name) VALUES ('late')`);
    expect((await admin.query(`SELECT label = 'item-' || id AS ok FROM items WHERE name = 'late'`)).rows[0].ok).toBe(true);
    await engine.complete();
  });
});

/** A table's recorded backfill progress for a version, or null before there is any. */
async function savedProgress(version: string, table: string): Promise<string | null> {
  if ((await admin.query(`SELECT to_regclass('symphony_migrations.versions') AS t`)).rows[0].t === null) return null;
  const r = await admin.query(`SELECT backfill_progress->>$2 AS p FROM symphony_migrations.versions WHERE name = $1`, [version, table]);
  return (r.rows[0]?.p as string | undefined) ?? null;
}

/**
 * Start `m` on an engine of its own and, once `far` says the backfill has got
 * far enough, end every other session of the database (the engine's among them)
 * as a crash or a database restart would; the start must fail.
 */
async function cutOff(m: Migration, batchSize: number, far: () => Promise<boolean>): Promise<void> {
  const first = new MigrationEngine(db.url, { batchSize });
  try {
    const running = first.start(m);
    running.catch(() => undefined);
    while (!(await far())) await new Promise((r) => setTimeout(r, 20));
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    await expect(running).rejects.toThrow();
  } finally {
    await first.close();
  }
}

describe('a backfill cut off mid-way', () => {
  // 4 ms a row: 25-row batches of 100 ms, so the cut lands mid-way through the 500 rows.
  const SLOW = parseMigration(`operations:
  - add_column: { table: items, column: { name: label, type: text, nullable: true }, up: "'item-' || id || pg_sleep(0.004)::text" }
`, '0003_slow.yaml');

  it('records progress with each batch, and a second start goes on after the last committed key', async () => {
    const progress = async (): Promise<number> => Number((await savedProgress('0003_slow', 'items')) ?? 0);
    await cutOff(SLOW, 25, async () => (await progress()) >= 150);
    const reached = await progress();
    expect(reached).toBeGreaterThanOrEqual(150);
    expect(reached).toBeLessThan(500);
    const status = await engine.status();
    expect(status.inFlight?.backfillProgress).toEqual({ items: String(reached) });

    const again = await engine.start(SLOW);
    expect(again.resumed).toBe(true);
    // Only the rows after the recorded key were walked again.
    expect(again.backfilled).toEqual({ items: 500 - reached });
    const rows = await admin.query(`SELECT count(*) FILTER (WHERE label = 'item-' || id)::int AS filled, count(*)::int AS n FROM items`);
    expect(rows.rows[0]).toEqual({ filled: 500, n: 500 });
    expect(await progress()).toBe(500);
    await engine.complete();
  });
});

describe('a backfill of a table without a one-column key cut off mid-way', () => {
  const SLOW_LOG = parseMigration(`operations:
  - add_column: { table: logs, column: { name: label, type: text, nullable: true }, up: "'log-' || n || pg_sleep(0.001)::text" }
`, '0004_logs.yaml');

  it('records the next page with each range, and a second start goes on from there', async () => {
    await admin.query('DROP TABLE IF EXISTS logs CASCADE');
    await admin.query(`CREATE TABLE logs (n int NOT NULL, msg text NOT NULL)`);
    await admin.query(`INSERT INTO logs SELECT g, 'message ' || g FROM generate_series(1, 3000) g`);
    const page = async (): Promise<number> => Number(((await savedProgress('0004_logs', 'logs')) ?? 'page:0:0').split(':')[1]);
    // batchSize 50: one page per transaction.
    await cutOff(SLOW_LOG, 50, async () => (await page()) >= 3);
    const reached = await page();
    const saved = String(await savedProgress('0004_logs', 'logs'));
    const end = Number(saved.split(':')[2]);
    expect(saved).toBe(`page:${reached}:${end}`);
    expect(reached).toBeGreaterThanOrEqual(3);
    expect(reached).toBeLessThan(end);
    const filledBefore = Number((await admin.query(`SELECT count(label)::int AS n FROM logs`)).rows[0].n);
    expect(filledBefore).toBeGreaterThan(0);
    expect(filledBefore).toBeLessThan(3000);

    // The rows the first run filled now live past the walk's end (an UPDATE moves a row to
    // free space): a walk over them would replace each row version.
    const doneVersions = async (): Promise<string[]> =>
      (await admin.query(`SELECT ctid::text || '/' || xmin::text AS v FROM logs WHERE (ctid::text::point)[0] > $1 ORDER BY 1`, [end])).rows.map((r) => r.v as string);
    const before = await doneVersions();
    expect(before.length).toBeGreaterThan(0);

    const again = await engine.start(SLOW_LOG);
    expect(again.resumed).toBe(true);
    expect(again.backfilled.logs).toBeGreaterThan(0);
    // Only the pages from the recorded one to the end were walked: rows filled before are untouched.
    expect(await doneVersions()).toEqual(expect.arrayContaining(before));
    const rows = await admin.query(`SELECT count(*) FILTER (WHERE label = 'log-' || n)::int AS filled, count(*)::int AS total FROM logs`);
    expect(rows.rows[0]).toEqual({ filled: 3000, total: 3000 });
    await engine.complete();
  });
});

describe('DDL under a lock held by another session', () => {
  it('retries with a short lock_timeout until the lock is free; readers are never queued behind its wait', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    const reader = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await reader.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE items IN ACCESS SHARE MODE');
      let settled = false;
      const starting = engine.start(ADD_LABEL).finally(() => (settled = true));
      // A DDL waiting for its lock without a timeout would queue every later reader behind it
      // until the holder ends, which it does only after these reads: they would fail on their
      // own lock_timeout. Retried short waits let each of them in.
      await reader.query(`SET lock_timeout = '5s'`);
      for (let i = 0; i < 8; i++) {
        expect((await reader.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(500);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(settled).toBe(false);
      const cols = await reader.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY 1`);
      expect(cols.rows.map((r) => r.column_name)).toEqual(['id', 'name']);
      await holder.query('COMMIT');
      const res = await starting;
      expect(res.backfilled).toEqual({ items: 500 });
      const labels = await admin.query(`SELECT count(*) FILTER (WHERE label = 'item-' || id)::int AS n FROM items`);
      expect(labels.rows[0].n).toBe(500);
      await engine.rollback();
    } finally {
      await holder.end();
      await reader.end();
    }
  });

  it('gives up after its tries, saying so, with nothing changed', async () => {
    const impatient = new MigrationEngine(db.url, { lockTimeoutMs: 20, retries: 2, backoffMs: 10 });
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE items IN ACCESS SHARE MODE');
      await expect(impatient.start(ADD_LABEL)).rejects.toThrow(/start of 0001_label: could not get its locks after 3 tries of 20 ms/);
      await holder.query('COMMIT');
      const cols = await admin.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'items'`);
      expect(cols.rows[0].n).toBe(2);
      expect((await impatient.status()).inFlight).toBeNull();
    } finally {
      await holder.end();
      await impatient.close();
    }
  });

  it('a failing statement of a one-round-trip transaction is named in the error', async () => {
    const bad = parseMigration(`operations:\n  - sql: { up: "ALTER TABLE items ADD COLUMN x int CHECK (x > 0 AND nonexistent_fn(x))" }\n`, '0002_bad.yaml');
    await expect(engine.start(bad)).rejects.toThrow(/could not start, nothing was changed: function nonexistent_fn\(integer\) does not exist \(in: ALTER TABLE items ADD COLUMN x int/);
    expect((await engine.status()).inFlight).toBeNull();
  });
});
