import { randomUUID } from 'node:crypto';
import { LockHeldError, NotFoundError, type LeaseInfo } from '../errors.js';
import { now } from './db.js';
import type { StateStore } from './store.js';

type Row = { id: string; holder: string; operation: string | null; acquired_at: string; expires_at: string };

const toInfo = (r: Row): LeaseInfo => ({ id: r.id, holder: r.holder, operation: r.operation, acquiredAt: r.acquired_at, expiresAt: r.expires_at });

/**
 * The environment's lock, as a lease: holder, id, heartbeat, expiry. A holder
 * that dies stops heartbeating and its lease expires by itself.
 */
export class LeaseStore {
  constructor(private readonly store: StateStore, private readonly ttlMs = 30_000) {}

  /** Take the lock or throw LockHeldError naming the current holder and expiry. */
  acquire(env: string, holder: string, operation?: string): LeaseInfo {
    const db = this.store.db;
    return this.store.transaction(() => {
      const cur = db.prepare(`SELECT * FROM leases WHERE env = ?`).get(env) as Row | undefined;
      if (cur && Date.parse(cur.expires_at) > Date.now()) throw new LockHeldError(toInfo(cur));
      const id = `lease-${randomUUID().slice(0, 8)}`;
      const at = now();
      const expires = new Date(Date.now() + this.ttlMs).toISOString();
      db.prepare(
        `INSERT INTO leases (env, id, holder, operation, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (env) DO UPDATE SET id = excluded.id, holder = excluded.holder, operation = excluded.operation,
           acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(env, id, holder, operation ?? null, at, at, expires);
      return { id, holder, operation: operation ?? null, acquiredAt: at, expiresAt: expires };
    });
  }

  /** Extend a lease we hold; false when it was taken from us (unlocked or expired and re-acquired). */
  heartbeat(env: string, id: string): boolean {
    const expires = new Date(Date.now() + this.ttlMs).toISOString();
    const res = this.store.db.prepare(`UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE env = ? AND id = ?`).run(now(), expires, env, id);
    return res.changes === 1;
  }

  setOperation(env: string, id: string, operation: string): void {
    this.store.db.prepare(`UPDATE leases SET operation = ? WHERE env = ? AND id = ?`).run(operation, env, id);
  }

  release(env: string, id: string): void {
    this.store.db.prepare(`DELETE FROM leases WHERE env = ? AND id = ?`).run(env, id);
  }

  current(env: string): LeaseInfo | null {
    const r = this.store.db.prepare(`SELECT * FROM leases WHERE env = ?`).get(env) as Row | undefined;
    return r ? toInfo(r) : null;
  }

  byId(id: string): LeaseInfo | null {
    const r = this.store.db.prepare(`SELECT * FROM leases WHERE id = ?`).get(id) as Row | undefined;
    return r ? toInfo(r) : null;
  }

  /** Remove a lease by id, whoever holds it (`Operations.unlock` checks the holder is gone first). */
  forceRelease(id: string): LeaseInfo {
    const r = this.store.db.prepare(`SELECT * FROM leases WHERE id = ?`).get(id) as Row | undefined;
    if (!r) throw new NotFoundError(`no lock with id ${id}`, 'list the current lock with: symphony status');
    this.store.db.prepare(`DELETE FROM leases WHERE id = ?`).run(id);
    return toInfo(r);
  }
}
