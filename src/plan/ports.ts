import { createHash } from 'node:crypto';

/** First port Symphony hands out for stable service ports (postgres, etcd members…). */
export const STABLE_PORT_BASE = 21000;
/** Stable ports start in [21000, 24000), below the instance ports (24000+). */
const SLOTS = 150;
const SLOT_WIDTH = 20;

/**
 * Where a state dir's environment starts looking for new stable ports: a slot
 * of [21000, 24000) chosen by a hash of the two, so the same stack always
 * plans the same ports, and two state dirs planning at the same moment (before
 * either has bound its ports) rarely start at the same one.
 */
export function stablePortBase(stateDir: string, env: string): number {
  const h = createHash('sha256').update(`${stateDir}\0${env}`).digest().readUInt32BE(0);
  return STABLE_PORT_BASE + (h % SLOTS) * SLOT_WIDTH;
}

/**
 * Allocate the named stable ports a service needs, keeping the ones it already
 * has. Pure: `used` holds every port recorded or declared anywhere on the machine.
 */
export function allocatePorts(names: string[], have: Record<string, number>, explicit: Record<string, number>, used: Set<number>, base = STABLE_PORT_BASE): Record<string, number> {
  const out: Record<string, number> = {};
  let next = base;
  for (const name of names) {
    const port = explicit[name] ?? have[name];
    if (port !== undefined) {
      out[name] = port;
      used.add(port);
      continue;
    }
    while (used.has(next)) next++;
    out[name] = next;
    used.add(next);
  }
  return out;
}
