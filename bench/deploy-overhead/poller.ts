import { setTimeout as sleep } from 'node:timers/promises';
import { get } from '../deploy-under-load/app.js';

/** One poll of the route: when it was answered, and the version (or the error). */
export interface Poll {
  /** Epoch milliseconds when the answer arrived. */
  at: number;
  version: string | null;
  error: string | null;
}

/**
 * A client that asks the route for its version every `everyMs` on a new
 * connection, and keeps every answer, to see when traffic moved.
 */
export class VersionPoller {
  readonly polls: Poll[] = [];
  private running = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: number,
    private readonly everyMs = 20,
  ) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      try {
        const r = await get(this.port, '/', 2000);
        this.polls.push({ at: Date.now(), version: r.status === 200 ? r.body.trim() : null, error: r.status === 200 ? null : `status ${r.status}` });
      } catch (err) {
        this.polls.push({ at: Date.now(), version: null, error: err instanceof Error ? err.message : String(err) });
      }
      const wait = this.everyMs - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  }
}

/**
 * Milliseconds from `from` until 100% of traffic is on `version`: the time of
 * the first answer after which every answer (to the end of the polls) is
 * `version`. Throws when the last answer is not `version`, or there is none.
 */
export function timeTo100(polls: readonly Poll[], version: string, from: number): number {
  const after = polls.filter((p) => p.at >= from);
  if (after.length === 0 || after[after.length - 1].version !== version) {
    throw new Error(`the route did not end on ${version}: last answer ${JSON.stringify(after[after.length - 1] ?? null)}`);
  }
  let i = after.length - 1;
  while (i > 0 && after[i - 1].version === version) i--;
  return after[i].at - from;
}

/** Failed polls (socket errors, non-200) since `from`: a deploy should have none. */
export function failedPolls(polls: readonly Poll[], from: number): Poll[] {
  return polls.filter((p) => p.at >= from && p.error !== null);
}
