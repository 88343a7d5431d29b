import { hostname, userInfo } from 'node:os';
import { NotFoundError, SymphonyError, StalePlanError, type LeaseInfo } from '../errors.js';
import { pidAlive } from '../util/pid.js';
import type { ExecDeps } from '../apply/context.js';
import { runOperation, type Outcome } from '../apply/runner.js';
import type { Plan } from '../plan/types.js';
import { LeaseStore } from '../state/lease.js';
import type { OperationRecord } from '../state/types.js';

export interface SubmitRequest {
  plan: Plan;
  /** Secret values read by the CLI from their sources; stored encrypted, never echoed. */
  secrets?: Record<string, string>;
  /** Who asked, shown to anyone who finds the lock held. */
  requester?: string;
}

/** Starts operations under the environment's lease and runs them in the background. */
export class Operations {
  private readonly running = new Map<string, Promise<Outcome>>();

  constructor(private readonly deps: ExecDeps) {}

  holder(requester?: string): string {
    return `${requester ?? `${userInfo().username}@${hostname()}`} via agent pid ${process.pid}`;
  }

  submit(req: SubmitRequest): OperationRecord {
    const { store, journal, vault } = this.deps;
    const plan = req.plan;
    if (!plan || plan.format !== 1 || !Array.isArray(plan.steps)) throw new SymphonyError('not a Symphony plan', 'make one with: symphony plan -o plan.json');
    const leases = new LeaseStore(store);
    const lease = leases.acquire(plan.env, this.holder(req.requester));
    try {
      if (plan.serial !== store.serial()) throw new StalePlanError(plan.serial, store.serial());
      for (const [name, value] of Object.entries(req.secrets ?? {})) vault.set(plan.env, name, value);
      const op = journal.create(plan.env, plan.kind, plan, lease.holder, plan.steps.map((s) => s.name));
      leases.setOperation(plan.env, lease.id, op.id);
      this.launch(op, lease.id);
      return op;
    } catch (err) {
      if (!journal.unfinished(plan.env).length) leases.release(plan.env, lease.id);
      throw err;
    }
  }

  /** `symphony resume`: continue a paused operation under a fresh lease. */
  resumePaused(id: string): OperationRecord {
    const op = this.deps.journal.get(id);
    if (!op || op.status !== 'paused') throw new SymphonyError(`operation ${id} is not paused`, 'see operations with: symphony history');
    const lease = new LeaseStore(this.deps.store).acquire(op.env, this.holder('resume'), op.id);
    this.deps.journal.resume(op.id);
    this.launch(op, lease.id);
    return this.deps.journal.get(id)!;
  }

  /** Resume an operation found unfinished in the journal (after an agent crash). */
  resume(op: OperationRecord): void {
    const leases = new LeaseStore(this.deps.store);
    const cur = leases.current(op.env);
    let leaseId: string;
    if (cur && cur.operation === op.id) {
      leaseId = cur.id;
      leases.heartbeat(op.env, cur.id);
    } else {
      if (cur) leases.forceRelease(cur.id);
      leaseId = leases.acquire(op.env, this.holder('recovery'), op.id).id;
    }
    this.deps.log.info({ operation: op.id }, 'resuming unfinished operation');
    this.launch(op, leaseId);
  }

  private launch(op: OperationRecord, leaseId: string): void {
    // Start on the next turn, so the caller gets its answer before the first step runs.
    const p = new Promise<void>((res) => setImmediate(res))
      .then(() => runOperation(this.deps, op, leaseId))
      .catch((err: unknown) => {
        this.deps.log.error({ operation: op.id, err: String(err) }, 'operation crashed');
        this.deps.journal.finish(op.id, 'failed', String(err));
        return { status: 'failed' as const, error: String(err) };
      })
      .finally(() => this.running.delete(op.id));
    this.running.set(op.id, p);
  }

  /**
   * `symphony unlock <id>`: remove a lock whose holder is gone. Refused while
   * the holder lives: an operation this agent runs, or an agent process that
   * is still there (the lease would be taken from a running deploy).
   */
  unlock(id: string): LeaseInfo {
    const leases = new LeaseStore(this.deps.store);
    const lease = leases.byId(id);
    if (!lease) throw new NotFoundError(`no lock with id ${id}`, 'list the current lock with: symphony status');
    const pid = Number(/via agent pid (\d+)$/.exec(lease.holder)?.[1] ?? NaN);
    const running = lease.operation !== null && lease.operation !== undefined && this.isRunning(lease.operation);
    if (running || (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid))) {
      throw new SymphonyError(
        `lock ${id} is held by ${lease.holder}, which is alive${lease.operation ? ` and running operation ${lease.operation}` : ''}; unlock only removes a dead holder's lock`,
        lease.operation ? `wait for it to finish: symphony attach ${lease.operation}` : 'wait for it to finish: symphony status',
      );
    }
    return leases.forceRelease(id);
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** True while any operation runs in this agent. */
  busy(): boolean {
    return this.running.size > 0;
  }

  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }
}
