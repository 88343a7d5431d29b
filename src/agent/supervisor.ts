import type { ExecDeps } from '../apply/context.js';
import { handleOf, kindCtx, startInstance, stopInstance, substitute } from '../apply/instances.js';
import { LeaseStore } from '../state/lease.js';
import { HealthTracker, probeOnce } from '../health/index.js';
import { getKind } from '../kinds/registry.js';
import type { ReleaseConfig } from '../plan/types.js';
import { rotateLogs } from '../runtime/process/index.js';
import type { InstanceRecord } from '../state/types.js';
import { logDirOf } from '../apply/context.js';
import { runDirOf } from '../apply/snapshot.js';

/** Restart delay after the n-th consecutive crash: 1 s, 2 s, 4 s… capped at 30 s. */
export function backoffMs(restarts: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, restarts - 1));
}

/** An instance's log is rotated (copy, then truncate) once it reaches this size… */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** …keeping this many rotated files (`<log>.1` the newest). */
export const LOG_KEEP = 3;

/** Crashes of one instance within this window count towards its backoff; an older crash is forgotten. */
export const CRASH_WINDOW_MS = 10 * 60_000;

/**
 * Wait before restarting an instance that crashed, given how many times it crashed within
 * {@link CRASH_WINDOW_MS} (this crash included): none for the first (a process that ran
 * fine and was killed comes back at once), then 1 s, 2 s, 4 s… up to 30 s while it keeps crashing.
 */
export function restartDelayMs(recentCrashes: number): number {
  return recentCrashes <= 1 ? 0 : backoffMs(recentCrashes - 1);
}

/** Start a dead instance again from its release's config, count the restart and record it. */
export async function restartInstance(deps: ExecDeps, i: InstanceRecord): Promise<InstanceRecord> {
  const cfg = deps.store.release(i.release)!.config as ReleaseConfig;
  const draft = cfg.instances.find((d) => d.ordinal === i.ordinal) ?? cfg.instances[0];
  await startInstance(deps, i.env, i.release, draft, i.ordinal);
  deps.store.updateInstance(i.id, { restarts: i.restarts + 1 });
  deps.store.addEvent(i.env, 'instance-restarted', `restarted ${i.id} (restart #${i.restarts + 1})`, { service: i.service, instance: i.id });
  return deps.store.instance(i.id)!;
}

/**
 * Watches every instance recorded as running: restarts crashed ones with
 * backoff (and records it), probes health with thresholds, rotates logs.
 */
export class Supervisor {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly nextRestart = new Map<string, number>();
  /** When each instance crashed, within {@link CRASH_WINDOW_MS}. */
  private readonly crashes = new Map<string, number[]>();
  private readonly trackers = new Map<string, HealthTracker>();

  constructor(private readonly deps: ExecDeps, private readonly intervalMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const envs = this.deps.store.db.prepare(`SELECT DISTINCT env FROM instances`).pluck().all() as string[];
      for (const env of envs) {
        for (const i of this.deps.store.instances(env, { live: true })) {
          if (i.status === 'running' || i.status === 'crashed') await this.watch(i);
        }
      }
      await this.expireWarm();
      // A stat per log each tick: a chatty instance is caught within a second of passing the limit.
      rotateLogs(logDirOf(this.deps.stateDir), { maxBytes: LOG_MAX_BYTES, keep: LOG_KEEP });
    } catch (err) {
      this.deps.log.error({ err: String(err) }, 'supervisor tick failed');
    } finally {
      this.busy = false;
    }
  }

  /** Stop warm releases whose rollback window has passed (not while an operation holds the environment). */
  private async expireWarm(): Promise<void> {
    const leases = new LeaseStore(this.deps.store);
    for (const rel of this.deps.store.expiredWarm()) {
      const lease = leases.current(rel.env);
      if (lease && Date.parse(lease.expiresAt) > Date.now()) continue;
      const cfg = rel.config as ReleaseConfig;
      for (const i of this.deps.store.instances(rel.env, { release: rel.id, live: true })) await stopInstance(this.deps, i, cfg.deploy.graceMs);
      this.deps.store.setReleaseStatus(rel.id, 'retired');
      this.deps.store.addEvent(rel.env, 'warm-expired', `warm window of ${rel.id} ended; its instances are stopped`, { service: rel.service });
    }
  }

  private async watch(seen: InstanceRecord): Promise<void> {
    const { store, driver } = this.deps;
    // The row may have changed since the tick listed it (an operation stopped it meanwhile): act on what it is now.
    const i = store.instance(seen.id);
    if (!i || (i.status !== 'running' && i.status !== 'crashed')) return;
    const h = handleOf(i);
    const alive = h !== null && driver.isAlive(h);
    if (alive) {
      if (i.status === 'running') await this.probe(i);
      return;
    }
    if (i.status === 'running') {
      const now = Date.now();
      const crashes = [...(this.crashes.get(i.id) ?? []).filter((t) => now - t < CRASH_WINDOW_MS), now];
      this.crashes.set(i.id, crashes);
      const delay = restartDelayMs(crashes.length);
      store.updateInstance(i.id, { status: 'crashed', lastExit: `exited at ${new Date(now).toISOString()}`, health: 'unhealthy' });
      store.addEvent(i.env, 'instance-crashed', `${i.id} exited unexpectedly; restart in ${delay} ms (crash ${crashes.length} within 10 min)`, { service: i.service, instance: i.id });
      this.nextRestart.set(i.id, now + delay);
      if (delay > 0) return;
    }
    const due = this.nextRestart.get(i.id) ?? 0;
    if (Date.now() < due) return;
    if (!store.release(i.release)) return;
    try {
      await restartInstance(this.deps, store.instance(i.id)!);
    } catch (err) {
      this.nextRestart.set(i.id, Date.now() + backoffMs(Math.max(1, this.crashes.get(i.id)?.length ?? 1)));
      store.addEvent(i.env, 'restart-failed', `could not restart ${i.id}: ${String(err)}`, { service: i.service, instance: i.id });
    }
  }

  private async probe(i: InstanceRecord): Promise<void> {
    const rel = this.deps.store.release(i.release);
    if (!rel) return;
    const cfg = rel.config as ReleaseConfig;
    let tracker = this.trackers.get(i.id);
    if (!tracker) {
      tracker = new HealthTracker({ healthyThreshold: cfg.health?.healthyThreshold ?? 1, unhealthyThreshold: cfg.health?.unhealthyThreshold ?? 3 });
      this.trackers.set(i.id, tracker);
    }
    const draft = cfg.instances.find((d) => d.ordinal === i.ordinal) ?? cfg.instances[0];
    const ctx = kindCtx(i.env, cfg);
    const kind = getKind(cfg.kind);
    const { env } = substitute(this.deps, i.env, draft);
    const result = cfg.health
      ? await probeOnce(cfg.health, { host: '127.0.0.1', port: i.port ?? undefined, cwd: runDirOf(this.deps.stateDir, cfg, draft), env })
      : kind.probe
        ? await kind.probe(ctx, draft, env)
        : { ok: true, detail: 'running' };
    tracker.record(result);
    const health = tracker.state;
    if (health !== i.health) this.deps.store.updateInstance(i.id, { health });
  }
}
