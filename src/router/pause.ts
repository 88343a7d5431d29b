interface Gate {
  timer: NodeJS.Timeout;
  waiters: (() => void)[];
}

/**
 * Paused routes. New requests on a paused route wait until `resume` or until the
 * pause's timeout, whichever comes first; then they proceed under the config of
 * that moment. They never fail because of a pause: a forgotten pause must not
 * take a site down, it only delays it by at most the timeout.
 */
export class RoutePauses {
  private readonly gates = new Map<string, Gate>();

  get size(): number {
    return this.gates.size;
  }

  /** Ids of the paused routes. */
  ids(): string[] {
    return [...this.gates.keys()];
  }

  isPaused(routeId: string): boolean {
    return this.gates.has(routeId);
  }

  /** Pause (or extend the pause of) a route for at most `timeoutMs`. */
  pause(routeId: string, timeoutMs: number): void {
    const existing = this.gates.get(routeId);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.resume(routeId), timeoutMs);
    timer.unref();
    this.gates.set(routeId, { timer, waiters: existing?.waiters ?? [] });
  }

  /** Let the waiting requests go; returns how many were waiting. */
  resume(routeId: string): number {
    const gate = this.gates.get(routeId);
    if (!gate) return 0;
    clearTimeout(gate.timer);
    this.gates.delete(routeId);
    for (const release of gate.waiters) release();
    return gate.waiters.length;
  }

  /** Waiting requests per paused route. */
  waiting(routeId: string): number {
    return this.gates.get(routeId)?.waiters.length ?? 0;
  }

  /** Calls `proceed` when the route is resumed (at once when it is not paused). */
  wait(routeId: string, proceed: () => void): void {
    const gate = this.gates.get(routeId);
    if (!gate) proceed();
    else gate.waiters.push(proceed);
  }

  resumeAll(): void {
    for (const id of [...this.gates.keys()]) this.resume(id);
  }
}
