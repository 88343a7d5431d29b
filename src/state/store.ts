import { now, openDb, parseJson, type Db } from './db.js';
import type {
  EventRecord,
  InstanceRecord,
  InstanceStatus,
  ReleaseRecord,
  ReleaseStatus,
  RouteRecord,
  ServiceRecord,
  VolumeRecord,
} from './types.js';

type Row = Record<string, unknown>;

const toService = (r: Row): ServiceRecord => ({
  env: r.env as string,
  name: r.name as string,
  kind: r.kind as string,
  currentRelease: (r.current_release as string | null) ?? null,
  previousRelease: (r.previous_release as string | null) ?? null,
  ports: parseJson<Record<string, number>>(r.ports as string),
  schemaVersion: (r.schema_version as string | null) ?? null,
  updatedAt: r.updated_at as string,
});

const toRelease = (r: Row): ReleaseRecord => ({
  id: r.id as string,
  env: r.env as string,
  service: r.service as string,
  configHash: r.config_hash as string,
  config: parseJson<unknown>(r.config as string),
  status: r.status as ReleaseStatus,
  createdAt: r.created_at as string,
  warmUntil: (r.warm_until as string | null) ?? null,
});

const toInstance = (r: Row): InstanceRecord => ({
  id: r.id as string,
  env: r.env as string,
  service: r.service as string,
  release: r.release as string,
  ordinal: r.ordinal as string,
  pid: (r.pid as number | null) ?? null,
  startTime: (r.start_time as number | null) ?? null,
  port: (r.port as number | null) ?? null,
  status: r.status as InstanceStatus,
  restarts: r.restarts as number,
  lastExit: (r.last_exit as string | null) ?? null,
  health: r.health as InstanceRecord['health'],
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

/**
 * The state store: services, immutable releases, instances, volumes and events
 * of every environment under one state dir. Operations and the lock live in
 * `Journal` and `LeaseStore`, which share the same database.
 */
export class StateStore {
  readonly db: Db;
  constructor(readonly dir: string) {
    this.db = openDb(dir);
  }

  close(): void {
    this.db.close();
  }

  /** Monotonic counter bumped whenever recorded desired state changes; saved plans carry it. */
  serial(): number {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'serial'`).get() as { value: string };
    return Number(row.value);
  }

  bumpSerial(): number {
    this.db.prepare(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'`).run();
    return this.serial();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Environments that have at least one recorded service. */
  envs(): string[] {
    return this.db.prepare(`SELECT DISTINCT env FROM services ORDER BY env`).pluck().all() as string[];
  }

  services(env: string): ServiceRecord[] {
    return (this.db.prepare(`SELECT * FROM services WHERE env = ? ORDER BY name`).all(env) as Row[]).map(toService);
  }

  service(env: string, name: string): ServiceRecord | null {
    const r = this.db.prepare(`SELECT * FROM services WHERE env = ? AND name = ?`).get(env, name) as Row | undefined;
    return r ? toService(r) : null;
  }

  upsertService(s: Omit<ServiceRecord, 'updatedAt' | 'schemaVersion'>): void {
    this.db
      .prepare(
        `INSERT INTO services (env, name, kind, current_release, previous_release, ports, updated_at)
         VALUES (@env, @name, @kind, @current, @previous, @ports, @at)
         ON CONFLICT (env, name) DO UPDATE SET kind = @kind, current_release = @current,
           previous_release = @previous, ports = @ports, updated_at = @at`,
      )
      .run({ env: s.env, name: s.name, kind: s.kind, current: s.currentRelease, previous: s.previousRelease, ports: JSON.stringify(s.ports), at: now() });
    this.dropKeptPorts(s.env, s.name);
  }

  setSchemaVersion(env: string, name: string, version: string): void {
    this.db.prepare(`UPDATE services SET schema_version = ? WHERE env = ? AND name = ?`).run(version, env, name);
  }

  deleteService(env: string, name: string): void {
    this.db.prepare(`DELETE FROM services WHERE env = ? AND name = ?`).run(env, name);
    this.db.prepare(`DELETE FROM routes WHERE env = ? AND service = ?`).run(env, name);
  }

  /** Record the routes that now send traffic to a service (replacing the ones it had). */
  setRoutes(env: string, service: string, routes: Array<Pick<RouteRecord, 'id' | 'listen' | 'host' | 'path'>>): void {
    this.transaction(() => {
      this.db.prepare(`DELETE FROM routes WHERE env = ? AND service = ?`).run(env, service);
      const put = this.db.prepare(`INSERT OR REPLACE INTO routes (env, id, service, listen, host, path) VALUES (?, ?, ?, ?, ?, ?)`);
      for (const r of routes) put.run(env, r.id, service, r.listen, r.host, r.path);
    });
  }

  /** Routes of an environment, by listen port. */
  routes(env: string): RouteRecord[] {
    return this.db.prepare(`SELECT env, id, service, listen, host, path FROM routes WHERE env = ? ORDER BY listen, id`).all(env) as RouteRecord[];
  }

  /** Remember the stable ports of a service being forgotten while its volume stays. */
  keepPorts(env: string, service: string, ports: Record<string, number>): void {
    this.db.prepare(`INSERT INTO kept_ports (env, service, ports) VALUES (?, ?, ?) ON CONFLICT (env, service) DO UPDATE SET ports = excluded.ports`).run(env, service, JSON.stringify(ports));
  }

  /** Ports kept for forgotten services of an environment, by service name. */
  keptPorts(env: string): Record<string, Record<string, number>> {
    const rows = this.db.prepare(`SELECT service, ports FROM kept_ports WHERE env = ?`).all(env) as Array<{ service: string; ports: string }>;
    return Object.fromEntries(rows.map((r) => [r.service, JSON.parse(r.ports) as Record<string, number>]));
  }

  /** Forget kept ports: of one service (it has its ports in its record again), or of the whole environment (its volumes are gone). */
  dropKeptPorts(env: string, service?: string): void {
    if (service === undefined) this.db.prepare(`DELETE FROM kept_ports WHERE env = ?`).run(env);
    else this.db.prepare(`DELETE FROM kept_ports WHERE env = ? AND service = ?`).run(env, service);
  }

  /** Record a release once; a release with the same id is immutable and left as is. */
  putRelease(r: Omit<ReleaseRecord, 'createdAt' | 'warmUntil'>): void {
    this.db
      .prepare(
        `INSERT INTO releases (id, env, service, config_hash, config, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      )
      .run(r.id, r.env, r.service, r.configHash, JSON.stringify(r.config), r.status, now());
  }

  setReleaseStatus(id: string, status: ReleaseStatus): void {
    this.db.prepare(`UPDATE releases SET status = ?, warm_until = NULL WHERE id = ?`).run(status, id);
  }

  /** Keep a release's instances running without traffic until `until`, for an instant rollback. */
  setWarm(id: string, until: Date): void {
    this.db.prepare(`UPDATE releases SET status = 'warm', warm_until = ? WHERE id = ?`).run(until.toISOString(), id);
  }

  /** Warm releases whose window has passed. */
  expiredWarm(now = new Date()): ReleaseRecord[] {
    return (this.db.prepare(`SELECT * FROM releases WHERE status = 'warm' AND warm_until <= ?`).all(now.toISOString()) as Row[]).map(toRelease);
  }

  release(id: string): ReleaseRecord | null {
    const r = this.db.prepare(`SELECT * FROM releases WHERE id = ?`).get(id) as Row | undefined;
    return r ? toRelease(r) : null;
  }

  releases(env: string, service: string): ReleaseRecord[] {
    return (
      this.db.prepare(`SELECT * FROM releases WHERE env = ? AND service = ? ORDER BY created_at DESC, rowid DESC`).all(env, service) as Row[]
    ).map(toRelease);
  }

  instances(env: string, filter: { service?: string; release?: string; live?: boolean } = {}): InstanceRecord[] {
    const rows = this.db.prepare(`SELECT * FROM instances WHERE env = ? ORDER BY service, release, ordinal`).all(env) as Row[];
    return rows
      .map(toInstance)
      .filter((i) => (filter.service ? i.service === filter.service : true))
      .filter((i) => (filter.release ? i.release === filter.release : true))
      .filter((i) => (filter.live ? i.status !== 'stopped' && i.status !== 'failed' : true));
  }

  instance(id: string): InstanceRecord | null {
    const r = this.db.prepare(`SELECT * FROM instances WHERE id = ?`).get(id) as Row | undefined;
    return r ? toInstance(r) : null;
  }

  putInstance(i: Omit<InstanceRecord, 'createdAt' | 'updatedAt' | 'restarts' | 'lastExit' | 'health'>): void {
    this.db
      .prepare(
        `INSERT INTO instances (id, env, service, release, ordinal, pid, start_time, port, status, created_at, updated_at)
         VALUES (@id, @env, @service, @release, @ordinal, @pid, @startTime, @port, @status, @at, @at)
         ON CONFLICT (id) DO UPDATE SET pid = @pid, start_time = @startTime, port = @port, status = @status, updated_at = @at`,
      )
      .run({ ...i, at: now() });
  }

  updateInstance(id: string, patch: Partial<Pick<InstanceRecord, 'pid' | 'startTime' | 'port' | 'status' | 'restarts' | 'lastExit' | 'health'>>): void {
    const cols: Record<string, string> = { pid: 'pid', startTime: 'start_time', port: 'port', status: 'status', restarts: 'restarts', lastExit: 'last_exit', health: 'health' };
    const sets = Object.keys(patch).map((k) => `${cols[k]} = @${k}`);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE instances SET ${sets.join(', ')}, updated_at = @at WHERE id = @id`).run({ ...patch, id, at: now() });
  }

  deleteInstance(id: string): void {
    this.db.prepare(`DELETE FROM instances WHERE id = ?`).run(id);
  }

  volumes(env: string): VolumeRecord[] {
    return (this.db.prepare(`SELECT * FROM volumes WHERE env = ? ORDER BY name`).all(env) as Row[]).map((r) => ({
      env: r.env as string,
      name: r.name as string,
      path: r.path as string,
      createdAt: r.created_at as string,
    }));
  }

  putVolume(env: string, name: string, path: string): void {
    this.db.prepare(`INSERT INTO volumes (env, name, path, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`).run(env, name, path, now());
  }

  deleteVolume(env: string, name: string): void {
    this.db.prepare(`DELETE FROM volumes WHERE env = ? AND name = ?`).run(env, name);
  }

  addEvent(env: string, kind: string, message: string, where: { service?: string; instance?: string } = {}): void {
    this.db
      .prepare(`INSERT INTO events (env, at, service, instance, kind, message) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(env, now(), where.service ?? null, where.instance ?? null, kind, message);
  }

  events(env: string, limit = 100): EventRecord[] {
    return (this.db.prepare(`SELECT * FROM events WHERE env = ? ORDER BY seq DESC LIMIT ?`).all(env, limit) as Row[]).map((r) => ({
      seq: r.seq as number,
      env: r.env as string,
      at: r.at as string,
      service: (r.service as string | null) ?? null,
      instance: (r.instance as string | null) ?? null,
      kind: r.kind as string,
      message: r.message as string,
    }));
  }
}
