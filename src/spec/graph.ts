import type { Finding } from './issues.js';
import type { PathKey } from './source.js';

/** One dependency of a service on another, with where it was declared. */
export interface Edge {
  from: string;
  to: string;
  path: PathKey[];
}

/** Sorted, deduplicated dependencies of each service (only edges to known services). */
export function dependencies(services: readonly string[], edges: readonly Edge[]): Map<string, string[]> {
  const deps = new Map<string, Set<string>>(services.map((s) => [s, new Set<string>()]));
  for (const e of edges) if (deps.has(e.to) && e.from !== e.to) deps.get(e.from)?.add(e.to);
  return new Map([...deps].map(([s, d]) => [s, [...d].sort()]));
}

/**
 * Cycles found by a depth-first walk (at least one per tangle of services),
 * each reported once as `api -> db -> api` from its smallest name, at the
 * declaration of the edge that leaves that service.
 */
export function findCycles(deps: ReadonlyMap<string, readonly string[]>, edges: readonly Edge[]): Finding[] {
  const findings: Finding[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of deps.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = ordered.join(' -> ');
        if (!reported.has(key)) {
          reported.add(key);
          const first = edges.find((e) => e.from === ordered[0] && e.to === (ordered[1] ?? ordered[0]));
          findings.push({
            path: first?.path ?? ['services', ordered[0]],
            message: `dependency cycle: ${[...ordered, ordered[0]].join(' -> ')}; break it by removing one uses: entry or reference`,
          });
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...deps.keys()].sort()) if (!state.has(node)) visit(node);
  return findings;
}

/** Dependencies first; among services ready at the same time, by name. Assumes no cycles. */
export function topologicalOrder(deps: ReadonlyMap<string, readonly string[]>): string[] {
  const remaining = new Map([...deps].map(([s, d]) => [s, new Set(d.filter((x) => deps.has(x)))]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, d]) => d.size === 0).map(([s]) => s).sort();
    if (ready.length === 0) throw new Error(`topologicalOrder: cycle among ${[...remaining.keys()].join(', ')}`);
    const next = ready[0];
    order.push(next);
    remaining.delete(next);
    for (const d of remaining.values()) d.delete(next);
  }
  return order;
}
