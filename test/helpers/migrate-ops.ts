import pg from 'pg';
import { MigrationEngine, connectionOptionsFor, parseMigration, type StartResult } from '../../src/migrate/index.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

/** One Postgres, an admin connection and an engine, shared by the operation tests of one file. */
export interface OpsDb {
  db: TestPostgres;
  admin: pg.Client;
  engine: MigrationEngine;
  /** Drop every version schema, the bookkeeping and all tables, then run `sql`. */
  reset(sql: string): Promise<void>;
  /** `migrate start` of a YAML migration, then `during(old, new)` with one client per version. */
  start(name: string, yaml: string, during?: (old: pg.Client, neu: pg.Client, res: StartResult) => Promise<void>): Promise<StartResult>;
  q<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

async function versionClient(url: string, schema: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, options: connectionOptionsFor(schema).options });
  await c.connect();
  return c;
}

export async function startOpsDb(stack: string): Promise<OpsDb> {
  const db = await startTestPostgres({ stack });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const engine = new MigrationEngine(db.url, { batchSize: 5 });
  return {
    db, admin, engine,
    async reset(sql) {
      const schemas = await admin.query<{ s: string }>(`SELECT nspname AS s FROM pg_namespace WHERE nspname LIKE 'public\\_%' OR nspname = 'symphony_migrations'`);
      for (const { s } of schemas.rows) await admin.query(`DROP SCHEMA "${s}" CASCADE`);
      await admin.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await admin.query(sql);
    },
    async start(name, yaml, during) {
      const res = await engine.start(parseMigration(yaml, `${name}.yaml`));
      if (!during) return res;
      const old = await versionClient(db.url, res.previousSchema);
      const neu = await versionClient(db.url, res.schema);
      try {
        await during(old, neu, res);
      } finally {
        await old.end();
        await neu.end();
      }
      return res;
    },
    async q(sql) {
      return (await admin.query(sql)).rows;
    },
    async close() {
      await admin.end().catch(() => undefined);
      await engine.close();
      await db.destroy();
    },
  };
}

/** Column names of a physical table, in order. */
export async function columnsOf(admin: pg.Client, table: string): Promise<string[]> {
  const r = await admin.query<{ attname: string }>(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table]);
  return r.rows.map((x) => x.attname);
}

/** Constraints of a physical table as `name:type`, sorted. */
export async function constraintsOf(admin: pg.Client, table: string): Promise<string[]> {
  const r = await admin.query<{ k: string }>(`SELECT conname || ':' || contype::text AS k FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY 1`, [table]);
  return r.rows.map((x) => x.k);
}
