/** First port Symphony hands out for stable service ports (postgres, etcd members…). */
export const STABLE_PORT_BASE = 21000;

/**
 * Allocate the named stable ports a service needs, keeping the ones it already
 * has. Pure: `used` holds every port recorded or declared anywhere on the machine.
 */
export function allocatePorts(names: string[], have: Record<string, number>, explicit: Record<string, number>, used: Set<number>): Record<string, number> {
  const out: Record<string, number> = {};
  let next = STABLE_PORT_BASE;
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
