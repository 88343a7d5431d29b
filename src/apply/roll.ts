import { dirname, join } from 'node:path';
import { getKind } from '../kinds/registry.js';
import type { ReleaseConfig } from '../plan/types.js';
import type { InstanceSpec } from '../runtime/types.js';
import { MemberReplaceError } from '../strategies/cluster-rolling/errors.js';
import { rollCluster } from '../strategies/cluster-rolling/index.js';
import { logDirOf } from './context.js';
import { handleOf, instanceId, isRunning, kindCtx, substitute } from './instances.js';
import { releaseConfig, type StepRun } from './step-run.js';

/**
 * Cluster-rolling replacement: one member at a time, followers first, leader
 * last, each member on its own volume. Re-running after a crash skips members
 * whose new instance already runs.
 */
export async function rollMembers(r: StepRun, cfg: ReleaseConfig, previous: string): Promise<void> {
  const { store, driver } = r.deps;
  const env = r.plan.env;
  const kind = getKind(cfg.kind);
  const ctx = kindCtx(env, cfg);
  const probe = kind.cluster?.(ctx);
  if (!probe) throw new Error(`kind ${cfg.kind} has no cluster probe; it cannot be rolled`);
  const oldCfg = releaseConfig(r, previous);
  const newId = r.step.release!;
  const spec = (c: ReleaseConfig, release: string, ordinal: string): InstanceSpec => {
    const d = c.instances.find((x) => x.ordinal === ordinal)!;
    const resolved = substitute(r.deps, env, d);
    return { id: instanceId(release, ordinal), service: c.service, release, command: resolved.command, cwd: d.cwd, env: resolved.env, port: d.port, logDir: logDirOf(r.deps.stateDir) };
  };
  for (const o of await driver.list()) {
    const d = o.release === newId ? cfg.instances.find((x) => instanceId(newId, x.ordinal) === o.id) : undefined;
    if (d && !store.instance(o.id)) {
      store.putInstance({ id: o.id, env, service: cfg.service, release: newId, ordinal: d.ordinal, pid: o.pid, startTime: o.startTime, port: d.port ?? null, status: 'running' });
      store.updateInstance(instanceId(previous, d.ordinal), { status: 'stopped' });
    }
  }
  const olds = store.instances(env, { release: previous, live: true });
  const members = cfg.instances
    .filter((d) => {
      const fresh = store.instance(instanceId(newId, d.ordinal));
      return !(fresh && fresh.status === 'running' && isRunning(r.deps, fresh));
    })
    .map((d) => {
      const old = olds.find((o) => o.ordinal === d.ordinal);
      const h = old ? handleOf(old) : null;
      return { ordinal: d.ordinal, old: h ?? { id: instanceId(previous, d.ordinal), pid: 0, startTime: 0 }, oldSpec: spec(oldCfg, previous, d.ordinal), newSpec: spec(cfg, newId, d.ordinal), volumePath: d.volumePath };
    });
  if (members.length === 0) return;
  let res: Awaited<ReturnType<typeof rollCluster>>;
  try {
    res = await rollCluster({
      members,
      driver,
      probe,
      graceMs: cfg.deploy.graceMs,
      memberTimeoutMs: 120_000,
      snapshotPath: cfg.volumePath ? join(cfg.volumePath, `pre-${newId}.snapshot.db`) : undefined,
      pauseAfter: r.step.pauseAfter,
      onEvent: (e) => {
        // Before the roll stops a member: the supervisor must not take its exit for a crash and start it again.
        if (e.type === 'stop') store.updateInstance(instanceId(previous, e.ordinal), { status: 'stopping' });
        r.deps.progress(r.step.name, `${e.type}${'ordinal' in e ? ' ' + e.ordinal : ''}`);
      },
    });
  } catch (err) {
    // The member put back on its old version runs as a new process: record it, so the supervisor watches it again.
    const f = err instanceof MemberReplaceError ? err.failure : null;
    const h = f?.restoredHandle;
    if (f && h) store.updateInstance(instanceId(previous, f.ordinal), { status: 'running', pid: h.pid, startTime: h.startTime });
    else if (f) store.updateInstance(instanceId(previous, f.ordinal), { status: 'crashed', lastExit: 'its new version failed and putting the old one back failed too' });
    throw err;
  }
  for (const m of res.replaced) {
    const d = cfg.instances.find((x) => x.ordinal === m.ordinal)!;
    store.putInstance({ id: m.handle.id, env, service: cfg.service, release: newId, ordinal: m.ordinal, pid: m.handle.pid, startTime: m.handle.startTime, port: d.port ?? null, status: 'running' });
    store.updateInstance(instanceId(previous, m.ordinal), { status: 'stopped' });
  }
  if (res.paused) throw new RollPaused(res.replaced.map((m) => m.ordinal), members.length - res.replaced.length);
}

/** Thrown when a cluster roll stops after `pauseAfter` members; the runner parks the operation. */
export class RollPaused extends Error {
  constructor(readonly replaced: string[], readonly remaining: number) {
    super(`paused after replacing ${replaced.join(', ')}; ${remaining} member(s) left`);
  }
}
