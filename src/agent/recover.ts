import type { ExecDeps } from '../apply/context.js';
import { handleOf } from '../apply/instances.js';
import type { Operations } from './operations.js';

/**
 * On agent start: re-adopt instances by pid + start time, stop processes of
 * this state dir that no record claims, record deaths that happened while no
 * agent watched. The agent then brings dead instances back (./boot.ts) and only then
 * finishes unfinished operations ({@link resumeUnfinished}).
 */
export async function recover(deps: ExecDeps): Promise<{ adopted: number; orphans: number; dead: number }> {
  const { store, driver } = deps;
  const observed = await driver.list();
  const byId = new Map(observed.map((o) => [o.id, o]));
  // An instance handed over to a new release (src/apply/in-place.ts) runs under its old stamp.
  const byHandle = new Map(observed.map((o) => [`${o.pid}:${o.startTime}`, o]));
  let adopted = 0;
  let orphans = 0;
  let dead = 0;
  const envs = store.db.prepare(`SELECT DISTINCT env FROM instances`).pluck().all() as string[];
  const claimed = new Set<string>();
  for (const env of envs) {
    for (const i of store.instances(env, { live: true })) {
      const h = handleOf(i);
      const o = byId.get(i.id) ?? (h ? byHandle.get(`${h.pid}:${h.startTime}`) : undefined);
      if (o && (!h || h.pid !== o.pid || h.startTime !== o.startTime)) {
        store.updateInstance(i.id, { pid: o.pid, startTime: o.startTime, status: i.status === 'stopping' ? 'stopping' : 'running' });
        adopted++;
      } else if (o) {
        adopted++;
      } else if (i.status === 'running') {
        store.updateInstance(i.id, { status: 'crashed', lastExit: 'exited while no agent was watching' });
        store.addEvent(env, 'instance-died', `${i.id} died while the agent was down`, { service: i.service, instance: i.id });
        dead++;
      } else if (i.status === 'stopping' || i.status === 'starting') {
        store.updateInstance(i.id, { status: i.status === 'stopping' ? 'stopped' : 'crashed' });
      }
      if (o) claimed.add(o.id);
    }
  }
  for (const o of observed) {
    if (claimed.has(o.id)) continue;
    deps.log.warn({ instance: o.id, pid: o.pid }, 'stopping orphan process that no record claims');
    await driver.stop(o, { graceMs: 5_000 });
    orphans++;
  }
  return { adopted, orphans, dead };
}

/** Resume (or undo, as each one's journal says) every unfinished operation; how many. */
export function resumeUnfinished(deps: ExecDeps, ops: Operations): number {
  // An operation submitted while this agent was still recovering (its socket answers first) already runs here.
  const unfinished = deps.journal.unfinished().filter((op) => !ops.isRunning(op.id));
  for (const op of unfinished) ops.resume(op);
  return unfinished.length;
}
