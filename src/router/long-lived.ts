import type { ReleaseCounters } from './stats.js';

/** An open WebSocket tunnel or SSE stream that outlives the switch of its route. */
export interface LongLivedConnection {
  readonly release: string;
  readonly counters: ReleaseCounters;
  /** End it gracefully (WebSocket close frame 1001, SSE end of response). */
  close(): void;
}

/** Long-lived connections by release; they stay open across switches until closed by name. */
export class LongLivedSet {
  private readonly open = new Set<LongLivedConnection>();

  add(conn: LongLivedConnection): void {
    if (this.open.has(conn)) return;
    this.open.add(conn);
    conn.counters.longLived++;
  }

  delete(conn: LongLivedConnection): void {
    if (this.open.delete(conn)) conn.counters.longLived--;
  }

  /** Close every connection of a release; returns how many were closed. */
  closeRelease(release: string): number {
    let n = 0;
    for (const conn of [...this.open]) {
      if (conn.release !== release) continue;
      this.delete(conn);
      conn.close();
      n++;
    }
    return n;
  }

  closeAll(): void {
    for (const conn of [...this.open]) {
      this.delete(conn);
      conn.close();
    }
  }
}
