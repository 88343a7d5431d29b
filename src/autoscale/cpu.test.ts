import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { averageUsage, readCpu } from './cpu.js';

// Real processes: a group that burns one core in a child, and one that sleeps.
const kids: number[] = [];
const group = (code: string): number => {
  const c = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  kids.push(c.pid!);
  return c.pid!;
};
afterAll(() => {
  for (const pid of kids) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
});

describe('CPU of instances from /proc', () => {
  it('counts a busy child in its group and tells it from an idle one', async () => {
    const busy = group(`require('node:child_process').spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }); setInterval(() => {}, 1000)`);
    const idle = group(`setInterval(() => {}, 1000)`);
    await sleep(300);
    const first = readCpu(new Map([['busy', busy], ['idle', idle]]));
    await sleep(1500);
    const second = readCpu(new Map([['busy', busy], ['idle', idle]]));
    const only = (id: string) => averageUsage({ at: first.at, seconds: new Map([[id, first.seconds.get(id)!]]) }, { at: second.at, seconds: new Map([[id, second.seconds.get(id)!]]) });
    expect(only('busy')).toBeGreaterThan(0.5);
    expect(only('idle')).toBeLessThan(0.1);
    expect(averageUsage(first, second)).toBeCloseTo(((only('busy') ?? 0) + (only('idle') ?? 0)) / 2, 5);
  });

  it('leaves out instances that are gone and answers null when none is left in both readings', () => {
    const r = readCpu(new Map([['none', 2 ** 22 + 7]]));
    expect(r.seconds.size).toBe(0);
    expect(averageUsage({ at: 0, seconds: new Map([['a', 1]]) }, { at: 1000, seconds: new Map([['b', 1]]) })).toBeNull();
  });
});
