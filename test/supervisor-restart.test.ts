import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartDelayMs } from '../src/agent/supervisor.js';
import type { EnvStatus } from '../src/agent/status.js';
import type { EventRecord } from '../src/state/types.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A worker that crashes is started again at once the first time, and backs off while it
// keeps crashing: the supervisor's choice is read from its events, not timed.
let dir: string;
let state: string;

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': 'name: crashy\nservices:\n  worker:\n    run: node server.mjs\n    dir: ./worker\n', ...appFiles('worker') });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cleanup(state);
});

const status = async (): Promise<EnvStatus> => json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
const crashes = async (): Promise<string[]> => json<{ events: EventRecord[] }>(await symphony(['events', '--json', '--kind', 'instance-crashed'], { cwd: dir })).events.map((e) => e.message);

async function livePid(notPid: number | null): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const w = (await status()).services.find((s) => s.name === 'worker')!.instances[0];
    if (w.alive && w.pid && w.pid !== notPid) return w.pid;
    await sleep(100);
  }
  throw new Error('the worker did not come back');
}

describe('restarting a crashed instance', () => {
  it('the backoff: none for the first crash, then 1 s, 2 s … capped at 30 s', () => {
    expect([1, 2, 3, 4, 6, 7, 20].map(restartDelayMs)).toEqual([0, 1000, 2000, 4000, 16_000, 30_000, 30_000]);
  });

  it('a worker killed once is restarted at once; killed again soon after, it waits 1 s', async () => {
    const first = await livePid(null);
    process.kill(first, 'SIGKILL');
    const second = await livePid(first);
    process.kill(second, 'SIGKILL');
    const third = await livePid(second);
    expect(third).not.toBe(second);
    const messages = await crashes();
    expect(messages).toHaveLength(2);
    expect(messages.some((m) => /restart in 0 ms \(crash 1 within 10 min\)/.test(m))).toBe(true);
    expect(messages.some((m) => /restart in 1000 ms \(crash 2 within 10 min\)/.test(m))).toBe(true);
    const w = (await status()).services.find((s) => s.name === 'worker')!.instances[0];
    expect(w.restarts).toBe(2);
    // The second restart really waited its second (a lower bound: a busy machine only adds to it).
    const all = json<{ events: EventRecord[] }>(await symphony(['events', '--json', '-n', '500'], { cwd: dir })).events.sort((a, b) => a.seq - b.seq);
    const crash2 = all.filter((e) => e.kind === 'instance-crashed')[1];
    const restart2 = all.find((e) => e.kind === 'instance-restarted' && e.seq > crash2.seq)!;
    expect(Date.parse(restart2.at) - Date.parse(crash2.at)).toBeGreaterThanOrEqual(1000);
  }, 60_000);
});
