import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdCall } from '../../src/kinds/etcd/gateway.js';

/** One acknowledged write: when it started and how long the client waited, retries included (ms, monotonic). */
export interface WriteSample {
  at: number;
  ms: number;
  attempts: number;
}

export interface WriteLoad {
  samples: WriteSample[];
  /** Attempts that failed and were retried on another member. */
  retries(): number;
  /** Writes that failed after every retry: what a client would see as an error. */
  errors(): number;
  stop(): Promise<void>;
}

export interface WriteLoadOptions {
  urls: string[];
  /** Concurrent writers (default 4). */
  writers?: number;
  /** Pause between a writer's writes (default 20 ms: about 50 writes/s per writer). */
  intervalMs?: number;
  /** Attempts per write before it counts as an error (default 20, 50 ms apart). */
  attempts?: number;
}

/**
 * A steady write load on etcd's HTTP gateway: `writers` loops, each putting a
 * fresh key every `intervalMs`; a failed attempt is retried on the next member.
 */
export function startWriteLoad(opts: WriteLoadOptions): WriteLoad {
  const samples: WriteSample[] = [];
  const writers = opts.writers ?? 4;
  const intervalMs = opts.intervalMs ?? 20;
  const maxAttempts = opts.attempts ?? 20;
  let retries = 0;
  let errors = 0;
  let stop = false;
  const loop = async (w: number): Promise<void> => {
    let next = w;
    for (let i = 0; !stop; i++) {
      const key = Buffer.from(`bench/${w}/${i}`).toString('base64');
      const value = Buffer.from(`v${i}`).toString('base64');
      const at = performance.now();
      let attempts = 0;
      let ok = false;
      while (!ok && attempts < maxAttempts) {
        attempts++;
        try {
          await etcdCall(`${opts.urls[next % opts.urls.length]}/v3/kv/put`, { key, value }, 2_000);
          ok = true;
        } catch {
          retries++;
          next++;
          await sleep(50);
        }
      }
      if (ok) samples.push({ at, ms: performance.now() - at, attempts });
      else errors++;
      await sleep(intervalMs);
    }
  };
  const done = Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  return {
    samples,
    retries: () => retries,
    errors: () => errors,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** Latencies (ms) of the writes that started within [from, to). */
export function latenciesBetween(samples: WriteSample[], from: number, to: number): number[] {
  return samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms);
}
