import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceHandle, RuntimeDriver } from '../../runtime/types.js';
import { ClusterRollInputError, ClusterUnhealthyError, MemberReplaceError, MemberVolumeMissingError } from './errors.js';
import { planClusterRoll } from './plan.js';
import type { ClusterMember, ClusterProbe, RollEvent } from './types.js';

export interface RollOptions {
  members: ClusterMember[];
  driver: RuntimeDriver;
  probe: ClusterProbe;
  /** Time between SIGTERM and SIGKILL when stopping a member. */
  graceMs: number;
  /** How long a restarted member may take to rejoin, be healthy and catch up. */
  memberTimeoutMs: number;
  /** Where to write a snapshot before the first member goes down (when the probe can snapshot). */
  snapshotPath?: string;
  /** Stop after this many members were replaced; `rollCluster` then returns `paused: true`. */
  pauseAfter?: number;
  onEvent?: (e: RollEvent) => void;
  /** Interval between probes while a member rejoins (default 50 ms). */
  pollMs?: number;
}

export interface RollResult {
  replaced: Array<{ ordinal: string; handle: InstanceHandle }>;
  paused: boolean;
}

/**
 * Replace the members of a healthy cluster one at a time, each on its own data
 * directory: followers first, leadership handed over, the leader last. Never
 * more than one member down; a member that does not rejoin is put back on its
 * old version and MemberReplaceError says which and why.
 */
export async function rollCluster(opts: RollOptions): Promise<RollResult> {
  const { members, driver, probe } = opts;
  const service = members[0]?.newSpec.service ?? 'cluster';
  const emit = (e: RollEvent): void => opts.onEvent?.(e);
  for (const m of members) {
    if (m.volumePath !== undefined && !existsSync(m.volumePath)) throw new MemberVolumeMissingError(m.ordinal, m.volumePath);
  }
  const byOrdinal = new Map(members.map((m) => [m.ordinal, m]));
  const caps = { moveLeader: probe.moveLeader !== undefined, snapshot: probe.snapshot !== undefined && opts.snapshotPath !== undefined };
  const first = planClusterRoll(service, await probe.status(), [...byOrdinal.keys()], caps);
  if (first[0]?.kind === 'snapshot' && probe.snapshot && opts.snapshotPath) {
    await probe.snapshot(opts.snapshotPath);
    emit({ type: 'snapshot', at: Date.now(), path: opts.snapshotPath });
  }

  const replaced: RollResult['replaced'] = [];
  const remaining = new Set(byOrdinal.keys());
  const moved = new Set<string>();
  while (remaining.size > 0) {
    if (opts.pauseAfter !== undefined && replaced.length >= opts.pauseAfter) {
      emit({ type: 'paused', at: Date.now(), replaced: replaced.length, remaining: [...remaining] });
      return { replaced, paused: true };
    }
    const status = await probe.status();
    if (!status.healthy) throw new ClusterUnhealthyError(service, status.reason, replaced.length === 0 ? 'start' : 'between members');
    const step = planClusterRoll(service, status, [...remaining], { ...caps, snapshot: false })[0];
    if (step.kind === 'move-leader' && probe.moveLeader && !moved.has(step.from)) {
      moved.add(step.from);
      await probe.moveLeader(step.to);
      emit({ type: 'move-leader', at: Date.now(), from: step.from, to: step.to });
      continue;
    }
    const ordinal = step.kind === 'replace' ? step.ordinal : step.kind === 'move-leader' ? step.from : null;
    const member = ordinal === null ? undefined : byOrdinal.get(ordinal);
    if (ordinal === null || !member) throw new ClusterRollInputError(`cannot roll ${service}: unexpected step ${JSON.stringify(step)}`, 'report this with the output of symphony plan');
    try {
      const handle = await replaceMember(member, opts, emit);
      replaced.push({ ordinal, handle });
      remaining.delete(ordinal);
      emit({ type: 'replaced', at: Date.now(), ordinal });
    } catch (err) {
      if (err instanceof MemberReplaceError) err.failure.replaced.push(...replaced);
      throw err;
    }
  }
  return { replaced, paused: false };
}

/** Stop → start the new version on the same volume → wait; on failure put the old version back and throw. */
async function replaceMember(m: ClusterMember, opts: RollOptions, emit: (e: RollEvent) => void): Promise<InstanceHandle> {
  const { driver } = opts;
  emit({ type: 'stop', at: Date.now(), ordinal: m.ordinal });
  await driver.stop(m.old, { graceMs: opts.graceMs });
  let fresh: InstanceHandle | null = null;
  let why: string;
  try {
    fresh = await driver.start(m.newSpec);
    emit({ type: 'start', at: Date.now(), ordinal: m.ordinal, pid: fresh.pid });
    const wait = await waitRejoined(m.ordinal, fresh, opts);
    if (wait === null) {
      emit({ type: 'rejoined', at: Date.now(), ordinal: m.ordinal });
      return fresh;
    }
    why = wait;
  } catch (err) {
    why = err instanceof Error ? err.message : String(err);
  }
  emit({ type: 'restore', at: Date.now(), ordinal: m.ordinal, reason: why });
  const logFile = driver.logFile(m.newSpec.id);
  let restoreProblem: string | undefined;
  let restoredHandle: InstanceHandle | undefined;
  try {
    if (fresh) await driver.stop(fresh, { graceMs: opts.graceMs });
    restoredHandle = await driver.start(m.oldSpec);
    restoreProblem = (await waitRejoined(m.ordinal, restoredHandle, opts)) ?? undefined;
  } catch (err) {
    restoreProblem = err instanceof Error ? err.message : String(err);
  }
  throw new MemberReplaceError({ ordinal: m.ordinal, why, logFile, restored: restoreProblem === undefined, restoreProblem, restoredHandle, replaced: [] });
}

/** Null once the member is healthy, the cluster is healthy and the member caught up; else why not. */
async function waitRejoined(ordinal: string, handle: InstanceHandle, opts: RollOptions): Promise<string | null> {
  const deadline = Date.now() + opts.memberTimeoutMs;
  const pollMs = opts.pollMs ?? 50;
  let last = 'not probed yet';
  for (;;) {
    if (!opts.driver.isAlive(handle)) return `its process exited (${last}); see ${opts.driver.logFile(handle.id)}`;
    const status = await opts.probe.status();
    const member = status.members.find((s) => s.ordinal === ordinal);
    if (status.healthy && member?.healthy) {
      if (await opts.probe.caughtUp(ordinal)) return null;
      last = `healthy but not caught up with the leader (${member.detail})`;
    } else {
      last = member ? `${member.detail}; cluster: ${status.reason || 'healthy'}` : `member ${ordinal} is not in the cluster status`;
    }
    if (Date.now() >= deadline) return `not healthy and caught up within ${opts.memberTimeoutMs} ms (last probe: ${last})`;
    await sleep(pollMs);
  }
}
