import { randomUUID } from 'node:crypto';
import { now, parseJson } from './db.js';
import type { StateStore } from './store.js';
import type { OperationRecord, OperationStatus, StepRecord, StepStatus } from './types.js';

type Row = Record<string, unknown>;

const toOperation = (r: Row): OperationRecord => ({
  id: r.id as string,
  env: r.env as string,
  kind: r.kind as string,
  status: r.status as OperationStatus,
  plan: parseJson<unknown>(r.plan as string),
  holder: r.holder as string,
  error: (r.error as string | null) ?? null,
  createdAt: r.created_at as string,
  finishedAt: (r.finished_at as string | null) ?? null,
});

const toStep = (r: Row): StepRecord => ({
  operationId: r.operation_id as string,
  seq: r.seq as number,
  name: r.name as string,
  status: r.status as StepStatus,
  detail: parseJson<unknown>((r.detail as string | null) ?? null),
  error: (r.error as string | null) ?? null,
  startedAt: (r.started_at as string | null) ?? null,
  endedAt: (r.ended_at as string | null) ?? null,
});

/**
 * The operation journal: an operation is a row with its steps; each step is
 * recorded before it starts and when it ends, so a crash is always recoverable.
 */
export class Journal {
  constructor(private readonly store: StateStore) {}

  create(env: string, kind: string, plan: unknown, holder: string, stepNames: string[]): OperationRecord {
    const id = `op-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomUUID().slice(0, 6)}`;
    const db = this.store.db;
    this.store.transaction(() => {
      db.prepare(`INSERT INTO operations (id, env, kind, status, plan, holder, created_at) VALUES (?, ?, ?, 'running', ?, ?, ?)`).run(
        id,
        env,
        kind,
        JSON.stringify(plan),
        holder,
        now(),
      );
      const ins = db.prepare(`INSERT INTO steps (operation_id, seq, name, status) VALUES (?, ?, ?, 'pending')`);
      stepNames.forEach((name, seq) => ins.run(id, seq, name));
    });
    return this.get(id)!;
  }

  get(id: string): OperationRecord | null {
    const r = this.store.db.prepare(`SELECT * FROM operations WHERE id = ?`).get(id) as Row | undefined;
    return r ? toOperation(r) : null;
  }

  /** Operations still marked running: what a restarted agent must finish or undo. */
  unfinished(env?: string): OperationRecord[] {
    const rows = this.store.db.prepare(`SELECT * FROM operations WHERE status = 'running' ORDER BY created_at`).all() as Row[];
    return rows.map(toOperation).filter((o) => (env ? o.env === env : true));
  }

  list(env: string, limit = 20): OperationRecord[] {
    const rows = this.store.db.prepare(`SELECT * FROM operations WHERE env = ? ORDER BY created_at DESC LIMIT ?`).all(env, limit) as Row[];
    return rows.map(toOperation);
  }

  steps(operationId: string): StepRecord[] {
    return (this.store.db.prepare(`SELECT * FROM steps WHERE operation_id = ? ORDER BY seq`).all(operationId) as Row[]).map(toStep);
  }

  stepStarted(operationId: string, seq: number): void {
    this.store.db.prepare(`UPDATE steps SET status = 'started', started_at = ?, error = NULL WHERE operation_id = ? AND seq = ?`).run(now(), operationId, seq);
  }

  stepEnded(operationId: string, seq: number, status: Exclude<StepStatus, 'pending' | 'started'>, detail?: unknown, error?: string): void {
    this.store.db
      // An undone step keeps the error it failed with, if any.
      .prepare(`UPDATE steps SET status = ?, ended_at = ?, detail = ?, error = COALESCE(?, error) WHERE operation_id = ? AND seq = ?`)
      .run(status, now(), detail === undefined ? null : JSON.stringify(detail), error ?? null, operationId, seq);
  }

  /** A paused operation waits for `symphony resume`; its paused step runs again then. */
  pause(operationId: string, seq: number, detail: unknown): void {
    this.store.db.prepare(`UPDATE steps SET status = 'pending', detail = ? WHERE operation_id = ? AND seq = ?`).run(JSON.stringify(detail), operationId, seq);
    this.store.db.prepare(`UPDATE operations SET status = 'paused' WHERE id = ?`).run(operationId);
  }

  resume(operationId: string): void {
    this.store.db.prepare(`UPDATE operations SET status = 'running' WHERE id = ? AND status = 'paused'`).run(operationId);
  }

  finish(operationId: string, status: Exclude<OperationStatus, 'running' | 'paused'>, error?: string): void {
    this.store.db.prepare(`UPDATE operations SET status = ?, finished_at = ?, error = ? WHERE id = ?`).run(status, now(), error ?? null, operationId);
  }
}
