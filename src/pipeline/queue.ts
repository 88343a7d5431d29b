import type { RunStatus } from './types.js';

export interface QueuedRun {
  id: string;
  status: RunStatus;
}

export interface QueueDecision {
  /** The run to start now, if any. */
  start: string | null;
  /** Queued runs a newer queued run replaces: they end as cancelled. */
  supersede: Array<{ id: string; by: string }>;
}

/**
 * One run at a time per stack, pure: given the stack's unfinished runs,
 * oldest first, keep only the newest queued run (a newer commit supersedes
 * an older one waiting behind the active run) and start it when no run is
 * active. A run waiting for approval is active.
 */
export function decideQueue(unfinished: QueuedRun[]): QueueDecision {
  const active = unfinished.some((r) => r.status === 'running' || r.status === 'waiting');
  const queued = unfinished.filter((r) => r.status === 'queued');
  const newest = queued[queued.length - 1];
  const supersede = queued.slice(0, -1).map((r) => ({ id: r.id, by: newest.id }));
  return { start: !active && newest ? newest.id : null, supersede };
}
