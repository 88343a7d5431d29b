import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync } from 'node:fs';
import { makeStateDir } from './dir.js';
import { join } from 'node:path';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

export type Db = Database.Database;

/** Open (creating if needed) the state database under `stateDir`, in WAL mode. */
export function openDb(stateDir: string): Db {
  makeStateDir(stateDir);
  const file = join(stateDir, 'state.db');
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA_SQL);
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  if (!row) {
    db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('serial', '0')`).run(String(SCHEMA_VERSION));
  } else if (Number(row.value) > SCHEMA_VERSION) {
    throw new Error(`state.db has schema version ${row.value}, newer than this symphony (${SCHEMA_VERSION}); upgrade symphony`);
  }
  return db;
}

export const now = (): string => new Date().toISOString();

export function parseJson<T>(text: string | null): T {
  return (text === null ? null : JSON.parse(text)) as T;
}
