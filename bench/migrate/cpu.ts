import { readFileSync } from 'node:fs';
import pg from 'pg';

/** application_name of the engine's connections, so the bench can find their server processes. */
export const ENGINE_APP = 'symphony-bench-migrate';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/**
 * Server CPU time (user + system, from /proc) of the engine's backends, a
 * measure of backfill cost per row that the machine's load does not inflate
 * the way it inflates wall time. Sampled at phase edges; a backend that ended
 * between two samples is lost (the engine keeps its two connections open).
 */
export class EngineCpu {
  private readonly seen = new Map<number, number>();
  constructor(private readonly admin: pg.ClientBase) {}

  /** CPU ms the engine's backends used since the previous call. */
  async sample(): Promise<number> {
    const pids = await this.admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [ENGINE_APP]);
    let used = 0;
    for (const { pid } of pids.rows) {
      const now = cpuMsOf(pid);
      if (now === null) continue;
      used += now - (this.seen.get(pid) ?? 0);
      this.seen.set(pid, now);
    }
    return used;
  }
}
