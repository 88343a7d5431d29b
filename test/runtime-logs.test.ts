import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessDriver, rotateLog, rotateLogs } from '../src/runtime/process/index.js';
import type { InstanceHandle } from '../src/runtime/types.js';

const APP = fileURLToPath(new URL('./fixtures/apps/http-app.mjs', import.meta.url));

let dir: string;
let driver: ProcessDriver;
let handle: InstanceHandle | undefined;

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const size = (file: string): number => (existsSync(file) ? statSync(file).size : 0);
const ticks = (text: string): number[] => [...text.matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1]));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-logs-'));
  driver = new ProcessDriver({ scope: join(dir, 'state') });
});

afterAll(async () => {
  if (handle) await driver.stop(handle, { graceMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

describe('log rotation (copytruncate)', () => {
  it('rotates a live instance log; the instance keeps writing to the truncated file', async () => {
    const logDir = join(dir, 'logs');
    handle = await driver.start({ id: 'ticker-0', service: 'ticker', release: 'r1', command: `exec node ${APP}`, cwd: dir, env: { TICK_MS: '5' }, logDir });
    const file = driver.logFile('ticker-0');
    expect(file).toBe(join(logDir, 'ticker-0.log'));
    const opts = { maxBytes: 2_000, keep: 2 };

    for (let round = 1; round <= 3; round++) {
      await until(`log to reach ${opts.maxBytes} bytes`, () => size(file) >= opts.maxBytes);
      expect(rotateLog(file, opts)).toBe(true);
      await until('the instance to write after truncation', () => size(file) > 0);
      const live = readFileSync(file);
      expect(live[0]).not.toBe(0);
      const rotated = ticks(readFileSync(`${file}.1`, 'utf8'));
      expect(rotated.length).toBeGreaterThan(0);
      expect(Math.min(...ticks(live.toString('utf8')))).toBeGreaterThan(Math.max(...rotated));
    }
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(Math.max(...ticks(readFileSync(`${file}.2`, 'utf8')))).toBeLessThan(Math.min(...ticks(readFileSync(`${file}.1`, 'utf8'))));
    expect(driver.isAlive(handle)).toBe(true);
  });

  it('leaves files below the size alone and rotates every large *.log of a directory', () => {
    const logDir = join(dir, 'many');
    mkdirSync(logDir, { recursive: true });
    const big = join(logDir, 'big-0.log');
    const small = join(logDir, 'small-0.log');
    const other = join(logDir, 'notes.txt');
    for (const [f, n] of [[big, 500], [small, 10], [other, 500]] as const) {
      writeFileSync(f, 'y'.repeat(n), { flag: 'w' });
    }
    expect(rotateLogs(logDir, { maxBytes: 100, keep: 3 })).toEqual([big]);
    expect(size(big)).toBe(0);
    expect(size(`${big}.1`)).toBe(500);
    expect(size(small)).toBe(10);
    expect(existsSync(`${other}.1`)).toBe(false);
    expect(rotateLog(join(logDir, 'absent.log'), { maxBytes: 1, keep: 1 })).toBe(false);
    expect(rotateLogs(join(dir, 'no-such-dir'), { maxBytes: 1, keep: 1 })).toEqual([]);
  });
});
