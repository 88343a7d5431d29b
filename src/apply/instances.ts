import { HealthCheckTimeoutError } from '../errors.js';
import { probeOnce, waitHealthy } from '../health/index.js';
import { getKind } from '../kinds/registry.js';
import type { InstanceDraft, KindContext } from '../kinds/types.js';
import type { ReleaseConfig } from '../plan/types.js';
import type { ContainerSpec, InstanceHandle } from '../runtime/types.js';
import type { InstanceRecord } from '../state/types.js';
import { firstFreePort } from '../util/ports.js';
import { logDirOf, type ExecDeps } from './context.js';
import { ensureSnapshot, runDirOf } from './snapshot.js';

/** App instances get ports in [24000, 32000): below the kernel's ephemeral range (32768+), above the stable ports (21000+). */
export const INSTANCE_PORT_BASE = 24000;
export const INSTANCE_PORT_SPAN = 8000;

export const instanceId = (release: string, ordinal: string): string => `${release}-${ordinal}`;

export function handleOf(i: InstanceRecord): InstanceHandle | null {
  return i.pid !== null && i.startTime !== null ? { id: i.id, pid: i.pid, startTime: i.startTime } : null;
}

export function isRunning(deps: ExecDeps, i: InstanceRecord): boolean {
  const h = handleOf(i);
  return h !== null && deps.driver.isAlive(h);
}

/** A draft's command and env with secret placeholders replaced by values (for the instance only). */
export function substitute(deps: ExecDeps, env: string, d: InstanceDraft): { command: string; env: Record<string, string> } {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.env)) out[k] = deps.vault.substitute(env, v);
  return { command: deps.vault.substitute(env, d.command), env: out };
}

export function kindCtx(env: string, cfg: ReleaseConfig): KindContext {
  return { stack: cfg.stack, env, service: cfg.service, spec: cfg.spec, stackDir: cfg.stackDir, volumePath: cfg.volumePath, ports: cfg.ports };
}

/**
 * Start one instance of a release, idempotently: a live recorded instance is
 * kept; an orphan stamped with the same id (the agent died between spawn and
 * record) is stopped first. The row is written before the process exists.
 */
export async function startInstance(deps: ExecDeps, env: string, release: string, draft: InstanceDraft, ordinal: string): Promise<InstanceRecord> {
  const { store, driver } = deps;
  const id = instanceId(release, ordinal);
  const existing = store.instance(id);
  if (existing && isRunning(deps, existing)) return existing;
  // The row is written before the spawn, so only an instance with a row can have an orphan process.
  if (existing) for (const o of await driver.list()) if (o.id === id) await driver.stop(o, { graceMs: 2000 });
  let port = draft.port ?? existing?.port ?? null;
  if (port === null && draft.port === undefined) {
    const taken = new Set(store.db.prepare(`SELECT port FROM instances WHERE port IS NOT NULL AND status != 'stopped'`).pluck().all() as number[]);
    // A random starting point keeps agents of different state dirs from racing for the same port.
    const from = INSTANCE_PORT_BASE + Math.floor(Math.random() * (INSTANCE_PORT_SPAN - 1000));
    port = await firstFreePort(from, taken, INSTANCE_PORT_BASE + INSTANCE_PORT_SPAN - 1);
  }
  const service = release.slice(0, release.lastIndexOf('-'));
  const cfg = store.release(release)?.config as ReleaseConfig | undefined;
  // An app's instance runs in its release's own copy of the files (made once, checked against the plan).
  const cwd = cfg ? ensureSnapshot(deps.stateDir, cfg, draft) : draft.cwd;
  store.putInstance({ id, env, service, release, ordinal, pid: null, startTime: null, port, status: 'starting' });
  const resolved = substitute(deps, env, draft);
  const container = cfg ? containerOf(cfg) : undefined;
  const h = await driver.start({ id, service, release, command: resolved.command, cwd, env: resolved.env, port: port ?? undefined, logDir: logDirOf(deps.stateDir), ...(container ? { container } : {}) });
  store.updateInstance(id, { pid: h.pid, startTime: h.startTime, status: 'running', health: 'unknown' });
  store.addEvent(env, 'instance-started', `started ${id} (pid ${h.pid}${port ? `, port ${port}` : ''})`, { service, instance: id });
  return store.instance(id)!;
}

/** What a container-runtime release's instances are created from: its image ID, port inside, its volume at /data. */
export function containerOf(cfg: ReleaseConfig): ContainerSpec | undefined {
  if (cfg.runtime !== 'container') return undefined;
  const spec = cfg.spec as { port?: number; run?: string };
  const out: ContainerSpec = { image: cfg.artifact, mounts: cfg.volumePath ? [{ source: cfg.volumePath, target: CONTAINER_VOLUME_PATH }] : [] };
  if (spec.port !== undefined) out.containerPort = spec.port;
  if (spec.run) out.cmd = spec.run.trim().split(/\s+/);
  return out;
}

/** Where a container sees its service's volume. */
export const CONTAINER_VOLUME_PATH = '/data';

/** Stop an instance gracefully and record it stopped. Idempotent. */
export async function stopInstance(deps: ExecDeps, i: InstanceRecord, graceMs: number): Promise<void> {
  deps.store.updateInstance(i.id, { status: 'stopping' });
  const cfg = deps.store.release(i.release)?.config as ReleaseConfig | undefined;
  const signal = (cfg?.instances.find((d) => d.ordinal === i.ordinal) ?? cfg?.instances[0])?.stopSignal;
  const h = handleOf(i);
  if (h) await deps.driver.stop(h, { graceMs, signal });
  for (const o of await deps.driver.list()) if (o.id === i.id) await deps.driver.stop(o, { graceMs, signal });
  deps.store.updateInstance(i.id, { status: 'stopped', health: 'unknown' });
  deps.store.addEvent(i.env, 'instance-stopped', `stopped ${i.id}`, { service: i.service, instance: i.id });
}

/** Wait until an instance passes its release's health check (or the kind's own probe). */
export async function waitInstanceHealthy(deps: ExecDeps, ctx: KindContext, cfg: ReleaseConfig, i: InstanceRecord): Promise<void> {
  const h = handleOf(i);
  const isAlive = (): boolean => (h ? deps.driver.isAlive(h) : false);
  const draft = cfg.instances.find((d) => d.ordinal === i.ordinal) ?? cfg.instances[0];
  const logFile = deps.driver.logFile(i.id);
  const kind = getKind(cfg.kind);
  const judgedBy = kind.healthRule(ctx, cfg.health);
  if (cfg.health) {
    await waitHealthy(cfg.health, { host: '127.0.0.1', port: i.port ?? undefined, cwd: runDirOf(deps.stateDir, cfg, draft), env: substitute(deps, i.env, draft).env }, { instance: i.id, logFile, isAlive, judgedBy });
  } else {
    const timeoutMs = 60_000;
    const started = Date.now();
    let detail = 'no probe yet';
    for (;;) {
      if (!isAlive()) throw new HealthCheckTimeoutError(i.id, Date.now() - started, `process exited (${detail})`, logFile, judgedBy);
      const r = kind.probe ? await kind.probe(ctx, draft, substitute(deps, i.env, draft).env) : await probeOnce({ tcp: true, intervalMs: 500, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3, startTimeoutMs: timeoutMs }, { host: '127.0.0.1', port: i.port ?? undefined });
      detail = r.detail;
      if (r.ok) break;
      if (Date.now() - started > timeoutMs) throw new HealthCheckTimeoutError(i.id, Date.now() - started, detail, logFile, judgedBy);
      await new Promise((res) => setTimeout(res, 300));
    }
  }
  deps.store.updateInstance(i.id, { health: 'healthy' });
}
