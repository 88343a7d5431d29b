/** SQLite schema of the state store. Bump `SCHEMA_VERSION` and add a step to migrate older files. */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services (
  env TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
  current_release TEXT, previous_release TEXT,
  ports TEXT NOT NULL DEFAULT '{}',
  schema_version TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (env, name)
);
CREATE TABLE IF NOT EXISTS releases (
  id TEXT PRIMARY KEY, env TEXT NOT NULL, service TEXT NOT NULL,
  config_hash TEXT NOT NULL, config TEXT NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, warm_until TEXT
);
CREATE INDEX IF NOT EXISTS releases_by_service ON releases (env, service, created_at);
CREATE TABLE IF NOT EXISTS instances (
  id TEXT PRIMARY KEY, env TEXT NOT NULL, service TEXT NOT NULL, release TEXT NOT NULL,
  ordinal TEXT NOT NULL, pid INTEGER, start_time INTEGER, port INTEGER,
  status TEXT NOT NULL, restarts INTEGER NOT NULL DEFAULT 0, last_exit TEXT,
  health TEXT NOT NULL DEFAULT 'unknown',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_by_service ON instances (env, service);
CREATE TABLE IF NOT EXISTS volumes (
  env TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (env, name)
);
-- Stable ports of a service forgotten by destroy while its volume was kept:
-- data in the volume (an etcd member's peer URLs) may name them, so a later
-- apply gives the service the same ports. Dropped with the volumes.
CREATE TABLE IF NOT EXISTS kept_ports (
  env TEXT NOT NULL, service TEXT NOT NULL, ports TEXT NOT NULL,
  PRIMARY KEY (env, service)
);
-- The routes that send traffic to a service, as its last switch set them
-- (status and outputs show them as the service's URLs).
CREATE TABLE IF NOT EXISTS routes (
  env TEXT NOT NULL, id TEXT NOT NULL, service TEXT NOT NULL,
  listen INTEGER NOT NULL, host TEXT, path TEXT,
  PRIMARY KEY (env, id)
);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY, env TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
  plan TEXT NOT NULL, holder TEXT NOT NULL, error TEXT,
  created_at TEXT NOT NULL, finished_at TEXT
);
CREATE TABLE IF NOT EXISTS steps (
  operation_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
  status TEXT NOT NULL, detail TEXT, error TEXT,
  started_at TEXT, ended_at TEXT,
  PRIMARY KEY (operation_id, seq)
);
CREATE TABLE IF NOT EXISTS leases (
  env TEXT PRIMARY KEY, id TEXT NOT NULL, holder TEXT NOT NULL, operation TEXT,
  acquired_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, env TEXT NOT NULL, at TEXT NOT NULL,
  service TEXT, instance TEXT, kind TEXT NOT NULL, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
  env TEXT NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL, ciphertext BLOB NOT NULL,
  updated_at TEXT NOT NULL, PRIMARY KEY (env, name)
);
`;
