import pg from 'pg';
import { MigrationError } from '../errors.js';
import { backfillTable } from './backfill.js';
import { BOOKKEEPING_DDL, finishVersion, insertVersion, listVersions, type VersionRecord } from './bookkeeping.js';
import { readLayout, takenNames, volatileDefaults } from './catalog.js';
import { BackfillError, MigrationInFlightError } from './errors.js';
import { baselineSchemaName, ident, versionSchemaName } from './names.js';
import { normalizeOperations, type Migration, type Operation } from './operations.js';
import { defaultToProbe, withVolatileDefaultAsUp } from './ops/add-column.js';
import { planMigration, viewStatements, type MigrationPlan, type MovedAside } from './plan.js';
import { runEach, runTx, withEngineLock, type RetryPolicy, type Statement } from './session.js';

export interface EngineOptions {
  /** Schema of the physical tables (default `public`). */
  baseSchema?: string;
  /** Prefix of version schemas (default: the base schema), e.g. the stack name. */
  schemaPrefix?: string;
  /** Fixed rows per backfill batch. Default: adaptive, each batch sized to take about `batchTargetMs`. */
  batchSize?: number;
  /** Target duration of one adaptive backfill batch (default 50 ms: row locks are held that long at most). */
  batchTargetMs?: number;
  /** lock_timeout of every DDL transaction (default 100 ms: the longest writers queue behind a waiting DDL). */
  lockTimeoutMs?: number;
  /** Tries after a lock timeout (default 12, backoff doubling from `backoffMs`, capped at 2 s, jittered). */
  retries?: number;
  backoffMs?: number;
}

export interface MigrationStatus {
  /** Schema apps should use when nothing is in flight (latest complete version, or the baseline). */
  current: string;
  inFlight: VersionRecord | null;
  versions: VersionRecord[];
}

export interface StartResult {
  version: string;
  schema: string;
  previousSchema: string;
  backfilled: Record<string, number>;
  resumed: boolean;
}

export interface CompleteResult {
  version: string;
  schema: string;
  droppedSchema: string;
}

export interface RollbackResult {
  version: string;
  schema: string;
  /** Columns and tables the new version wrote, kept under these names. */
  movedAside: MovedAside[];
}

/**
 * Expand/contract migrations on one database: `start` adds and exposes the new
 * version as a schema of views, `complete` contracts once old clients are gone,
 * `rollback` undoes `start` keeping what the new version wrote.
 */
export class MigrationEngine {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly base: string;
  private readonly prefix: string;
  private readonly policy: RetryPolicy;
  private readonly batchSize: number | undefined;
  private readonly batchTargetMs: number;

  constructor(connection: string | pg.Pool, opts: EngineOptions = {}) {
    this.ownsPool = typeof connection === 'string';
    this.pool = typeof connection === 'string' ? new pg.Pool({ connectionString: connection, max: 2 }) : connection;
    // An idle connection the server ends is dropped by the pool; the next command opens another.
    if (this.ownsPool) this.pool.on('error', () => undefined);
    this.base = opts.baseSchema ?? 'public';
    this.prefix = opts.schemaPrefix ?? this.base;
    this.batchSize = opts.batchSize;
    this.batchTargetMs = opts.batchTargetMs ?? 50;
    this.policy = { lockTimeoutMs: opts.lockTimeoutMs ?? 100, retries: opts.retries ?? 12, backoffMs: opts.backoffMs ?? 50 };
  }

  /** Schema name of a version under this engine's prefix (`version_schema` of its file when it has one). */
  schemaFor(m: Pick<Migration, 'name' | 'versionSchema'>): string {
    return versionSchemaName(this.prefix, m.versionSchema ?? m.name);
  }

  async status(): Promise<MigrationStatus> {
    const client = await this.pool.connect();
    try {
      return this.statusOf(await listVersions(client));
    } finally {
      client.release();
    }
  }

  private statusOf(versions: VersionRecord[]): MigrationStatus {
    const complete = versions.filter((v) => v.status === 'complete');
    return {
      current: complete.length ? complete[complete.length - 1].schema : baselineSchemaName(this.prefix),
      inFlight: versions.find((v) => v.status === 'in-flight') ?? null,
      versions,
    };
  }

  /**
   * `add_column` defaults that Postgres says are volatile become the backfill's
   * `up` (see withVolatileDefaultAsUp); the recorded operations carry the result,
   * so complete and rollback plan the same statements.
   */
  private async resolveDefaults(client: pg.ClientBase, m: Migration): Promise<Migration> {
    const probes = m.operations.flatMap((op, i) => {
      const d = 'add_column' in op ? defaultToProbe(op.add_column) : null;
      return d !== null && 'add_column' in op ? [{ key: String(i), type: op.add_column.column.type, default: d }] : [];
    });
    let volatile: Set<string>;
    try {
      volatile = await volatileDefaults(client, probes);
    } catch (err) {
      throw new MigrationError(`migration ${m.name}: a column default cannot be evaluated: ${(err as Error).message}`, `fix the \`default\` in ${m.file}, then run symphony migrate start again`);
    }
    const operations = m.operations.map((op, i): Operation => ('add_column' in op ? { add_column: withVolatileDefaultAsUp(op.add_column, volatile.has(String(i))) } : op));
    return { ...m, operations };
  }

  async start(m: Migration): Promise<StartResult> {
    return withEngineLock(this.pool, async (client) => {
      await runTx(client, this.policy, 'creating the bookkeeping schema', BOOKKEEPING_DDL);
      const st = this.statusOf(await listVersions(client));
      const resumed = st.inFlight?.name === m.name;
      if (st.inFlight && !resumed) throw new MigrationInFlightError(st.inFlight.name, m.name);
      if (st.versions.some((v) => v.name === m.name && v.status === 'complete')) {
        throw new MigrationError(`migration ${m.name} is already complete on this database`, 'nothing to do; see symphony migrate status');
      }
      // The in-flight record of this migration when start runs again: its layout and backfill progress.
      const resuming = resumed ? (st.inFlight as VersionRecord) : null;
      const before = resuming ? resuming.layoutBefore : await readLayout(client, this.base);
      m = resuming ? { ...m, operations: normalizeOperations(resuming.operations) } : await this.resolveDefaults(client, m);
      const plan = planMigration(before, m, resuming ? resuming.schema : this.schemaFor(m));
      const previous = st.current;
      if (!resumed) {
        const prevExists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [previous])).rowCount === 1;
        const record = insertVersion({ name: m.name, file: m.file, schema: plan.schema, previous, operations: m.operations, layoutBefore: before });
        const statements: Statement[] = [...(prevExists ? [] : viewStatements(previous, before)), ...plan.startTx];
        try {
          if (plan.rereadAfterStart) {
            await runTx(client, this.policy, `start of ${m.name}`, statements, async (c) => {
              for (const v of viewStatements(plan.schema, await readLayout(c, this.base))) await c.query(v);
              await c.query(record[0], record[1]);
            });
          } else {
            await runTx(client, this.policy, `start of ${m.name}`, [...statements, ...plan.views, record]);
          }
        } catch (err) {
          if (err instanceof MigrationError) throw err;
          throw new MigrationError(`migration ${m.name} could not start, nothing was changed: ${(err as Error).message}`, `fix ${m.file}, then run symphony migrate start again`);
        }
      }
      const backfilled: Record<string, number> = {};
      try {
        await runEach(client, this.policy, `indexes of ${m.name}`, plan.startConcurrent);
        for (const step of plan.backfillSteps) {
          const layout = before.tables.find((t) => t.physical === step.table);
          if (!layout) continue;
          backfilled[step.table] = await backfillTable(client, this.base, layout, {
            ...this.policy, migration: m.name, hash: plan.hash, batchSize: this.batchSize, batchTargetMs: this.batchTargetMs, direct: step.direct,
            resumeAfter: resuming?.backfillProgress[step.table] ?? null,
          });
        }
        await runEach(client, this.policy, `indexes of ${m.name}`, plan.startAfterBackfill);
      } catch (err) {
        await this.abort(client, plan, err as Error);
        if (err instanceof MigrationError) throw err;
        throw new MigrationError(`migration ${m.name} failed during start and was undone: ${(err as Error).message}`, `fix ${m.file}, then run symphony migrate start again`);
      }
      return { version: m.name, schema: plan.schema, previousSchema: previous, backfilled, resumed };
    });
  }

  private async abort(client: pg.ClientBase, plan: MigrationPlan, cause: Error): Promise<void> {
    const detail = cause instanceof BackfillError ? cause.message : `start failed: ${cause.message}`;
    await runEach(client, this.policy, `undoing ${plan.version}`, plan.abortConcurrent);
    await runTx(client, this.policy, `undoing ${plan.version}`, [...plan.abortTx, finishVersion(plan.version, 'failed', { error: detail })]);
  }

  private async inFlight(client: pg.ClientBase, verb: string, asideTaken?: ReadonlySet<string>): Promise<{ record: VersionRecord; plan: MigrationPlan }> {
    const record = this.statusOf(await listVersions(client)).inFlight;
    if (!record) throw new MigrationError(`nothing to ${verb}: no migration is in flight on this database`, 'see symphony migrate status');
    const m: Migration = { name: record.name, file: record.file, operations: normalizeOperations(record.operations) };
    return { record, plan: planMigration(record.layoutBefore, m, record.schema, asideTaken) };
  }

  /** Contract: validate constraints, drop the previous version's schema, triggers and old columns. */
  async complete(): Promise<CompleteResult> {
    return withEngineLock(this.pool, async (client) => {
      const { record, plan } = await this.inFlight(client, 'complete');
      try {
        await runEach(client, this.policy, `validating constraints of ${record.name}`, plan.validate);
      } catch (err) {
        throw new MigrationError(`migration ${record.name} cannot complete: ${(err as Error).message}`, 'fix the offending rows through the new version, or: symphony migrate rollback');
      }
      await runTx(client, this.policy, `complete of ${record.name}`, [
        `DROP SCHEMA IF EXISTS ${ident(record.previous)} CASCADE`,
        ...plan.completeTx,
        finishVersion(record.name, 'complete'),
      ]);
      await runEach(client, this.policy, `dropping indexes of ${record.name}`, plan.completeConcurrent);
      return { version: record.name, schema: record.schema, droppedSchema: record.previous };
    });
  }

  /** Undo `start`; columns and tables the new version wrote are renamed aside, never dropped. */
  async rollback(): Promise<RollbackResult> {
    return withEngineLock(this.pool, async (client) => {
      // Aside names already used (an earlier rollback of the same version) get a numbered suffix.
      const { record, plan } = await this.inFlight(client, 'roll back', await takenNames(client, this.base));
      await runTx(client, this.policy, `rollback of ${record.name}`, [...plan.rollbackTx, finishVersion(record.name, 'rolled-back', { movedAside: plan.movedAside })]);
      await runEach(client, this.policy, `dropping indexes of ${record.name}`, plan.rollbackConcurrent);
      return { version: record.name, schema: record.schema, movedAside: plan.movedAside };
    });
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
