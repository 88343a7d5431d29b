import { existsSync, symlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { getKind } from '../kinds/registry.js';
import type { InstanceDraft } from '../kinds/types.js';
import type { InstanceRecord } from '../state/types.js';
import type { ExecDeps } from './context.js';
import { instanceId, isRunning, kindCtx, startInstance, stopInstance, substitute, waitInstanceHealthy } from './instances.js';
import { live, releaseConfig, type StepRun } from './step-run.js';

/**
 * Hand a running instance over to the next release: the same process gets the
 * new release's record (`<release>-<ordinal>`), the old record is stopped. The
 * process keeps its stamp (the old id); recovery finds it by pid + start time.
 * The new id's log is a link to the file the process writes.
 */
export function handOver(deps: ExecDeps, from: InstanceRecord, release: string): InstanceRecord {
  const { store } = deps;
  const id = instanceId(release, from.ordinal);
  store.transaction(() => {
    store.putInstance({ id, env: from.env, service: from.service, release, ordinal: from.ordinal, pid: from.pid, startTime: from.startTime, port: from.port, status: 'running' });
    store.updateInstance(id, { health: from.health });
    store.updateInstance(from.id, { status: 'stopped', lastExit: `handed over to ${id} (same process)` });
  });
  const [log, target] = [deps.driver.logFile(id), deps.driver.logFile(from.id)];
  if (!existsSync(log) && existsSync(target)) symlinkSync(basename(target), log);
  store.addEvent(from.env, 'instance-handed-over', `${from.id} (pid ${from.pid}) is now ${id}: same process, no restart`, { service: from.service, instance: id });
  return store.instance(id)!;
}

const sameDraft = (a: InstanceDraft, b: InstanceDraft): boolean =>
  a.command === b.command && a.cwd === b.cwd && a.port === b.port && JSON.stringify(a.env) === JSON.stringify(b.env);

/**
 * Replace a release in place on the same volume. Per instance: the same command →
 * handed over; the kind can apply the change to the running process (a reload) →
 * handed over; otherwise stopped and started again. Instances that hold the others'
 * clients (a pooler) are replaced first; the rest restart inside the kind's `hold`
 * (PAUSE … RESUME), healthy before their clients are let through. Idempotent: fresh
 * instances are kept, and a hold left by a crashed agent is released.
 */
export async function replaceInPlace(r: StepRun): Promise<unknown> {
  const { deps, plan, step } = r;
  const release = step.release!;
  const cfg = releaseConfig(r, release);
  const kind = getKind(cfg.kind);
  const ctx = kindCtx(plan.env, cfg);
  const prevCfg = step.previous ? releaseConfig(r, step.previous) : null;
  const prevCtx = prevCfg ? kindCtx(plan.env, prevCfg) : null;
  const olds = live(r, step.previous).filter((i) => isRunning(deps, i));
  const out: { handedOver: string[]; reloaded: string[]; restarted: string[]; held?: boolean; detail: string[] } = { handedOver: [], reloaded: [], restarted: [], detail: [] };
  const restart: InstanceDraft[] = [];
  // A holder kept as it is (the same pooler process) is handed over last, once the rest
  // succeeded: a refused reload or a failed restart leaves it with the release it serves.
  const keptHolders: InstanceRecord[] = [];
  for (const draft of [...cfg.instances].sort((a, b) => Number(!!b.holds) - Number(!!a.holds))) {
    const fresh = deps.store.instance(instanceId(release, draft.ordinal));
    if (fresh && isRunning(deps, fresh)) continue;
    const old = olds.find((o) => o.ordinal === draft.ordinal);
    const before = prevCfg?.instances.find((d) => d.ordinal === draft.ordinal);
    if (old && before && sameDraft(before, draft)) {
      if (draft.holds) keptHolders.push(old);
      else out.handedOver.push(handOver(deps, old, release).id);
      continue;
    }
    if (old && prevCtx && kind.inPlace && !draft.holds) {
      const res = await kind.inPlace.reload(prevCtx, ctx, substitute(deps, plan.env, draft).env);
      out.detail.push(res.detail);
      if (res.reloaded) {
        out.reloaded.push(handOver(deps, old, release).id);
        continue;
      }
    }
    restart.push(draft);
  }
  const env = substitute(deps, plan.env, cfg.instances[0]).env;
  const renew = async (draft: InstanceDraft): Promise<void> => {
    for (const o of olds.filter((i) => i.ordinal === draft.ordinal)) await stopInstance(deps, o, cfg.deploy.graceMs);
    const started = await startInstance(deps, plan.env, release, draft, draft.ordinal);
    await waitInstanceHealthy(deps, ctx, cfg, started);
    out.restarted.push(started.id);
  };
  for (const draft of restart.filter((d) => d.holds)) await renew(draft);
  const rest = restart.filter((d) => !d.holds);
  if (rest.length > 0) {
    const run = async (): Promise<void> => {
      for (const draft of rest) await renew(draft);
    };
    if (kind.inPlace) {
      const held = await kind.inPlace.hold(ctx, env, run);
      out.held = held.held;
      out.detail.push(held.detail);
    } else {
      await run();
    }
  } else if (kind.inPlace) {
    await kind.inPlace.resume(ctx, env);
  }
  for (const old of keptHolders) out.handedOver.push(handOver(deps, old, release).id);
  return out;
}
