import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Router processes of one router dir ("peers"). Every peer accepts connections on the same
 * listening sockets (the leader opened them and passed them on over IPC), so the death of
 * any one peer costs only the connections it held: the kernel keeps queueing new ones on
 * the shared socket and the survivors accept them. One peer leads: it holds the leader
 * lock, serves the control socket, persists the config and starts a new follower when one
 * dies. When the leader dies, a follower takes the lock and leads.
 */

/** Router processes per router dir when the agent starts the router (leader + 1 follower). */
export const DAEMON_PEERS = 2;

/** Peers from the option, else SYMPHONY_ROUTER_PEERS (or the older SYMPHONY_ROUTER_WORKERS), else `fallback`. */
export function peerCount(option: number | undefined, fallback = 1): number {
  const n = option ?? Number(process.env.SYMPHONY_ROUTER_PEERS ?? process.env.SYMPHONY_ROUTER_WORKERS ?? fallback);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : fallback;
}

/**
 * The leader lock of a router dir: an abstract unix socket named after the dir. Binding it
 * is atomic and the kernel releases it the moment its holder dies, so a lock is never stale.
 */
export function leaderLockName(dir: string): string {
  return `\0symphony-router-${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`;
}

/** Take the leader lock, or null when another live process holds it (after `waitMs` of retries). */
export async function acquireLeaderLock(dir: string, waitMs = 0): Promise<Server | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    const lock = await new Promise<Server | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen({ path: leaderLockName(dir) }, () => resolve(server));
    });
    if (lock) {
      lock.unref();
      return lock;
    }
    if (Date.now() >= until) return null;
    await sleep(25);
  }
}

/** How many times a follower took over from a dead leader, kept beside the config. */
export function readTakeovers(dir: string): number {
  try {
    const n = Number(JSON.parse(readFileSync(join(dir, 'takeovers.json'), 'utf8')).takeovers);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

export function recordTakeover(dir: string): number {
  const takeovers = readTakeovers(dir) + 1;
  writeFileSync(join(dir, 'takeovers.json'), JSON.stringify({ takeovers, at: new Date().toISOString() }) + '\n');
  return takeovers;
}
