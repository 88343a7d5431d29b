import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_KEEP, LOG_MAX_BYTES } from '../src/agent/supervisor.js';
import type { EnvStatus } from '../src/agent/status.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A running instance that logs a lot: the agent rotates its log at 10 MiB, keeps 3 rotated
// files, and the instance goes on writing to the same (truncated) file.
let dir: string;
let state: string;

// 1 MiB lines, 5 a second, until 4 rotations' worth is written; then one short line every 100 ms.
const writer = `const line = 'x'.repeat(${1024 * 1024 - 1}) + '\\n';
let written = 0;
const burst = setInterval(() => {
  process.stdout.write(line);
  if (++written >= ${(LOG_MAX_BYTES / (1024 * 1024)) * (LOG_KEEP + 1) + 4}) clearInterval(burst);
}, 200);
let n = 0;
setInterval(() => process.stdout.write('tick ' + n++ + '\\n'), 100);
`;

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': 'name: chatty\nservices:\n  w:\n    run: node writer.mjs\n    dir: ./w\n', 'w/writer.mjs': writer });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cleanup(state);
});

describe('log rotation of a running instance', () => {
  it(`rotates at ${LOG_MAX_BYTES} bytes, keeps ${LOG_KEEP} files, and the instance keeps writing to its log`, async () => {
    const before = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir })).services[0].instances[0];
    const log = join(state, 'logs', `${before.id}.log`);
    for (let i = 0; i < 600 && !existsSync(`${log}.${LOG_KEEP}`); i++) await sleep(100);
    expect(existsSync(`${log}.${LOG_KEEP}`), `${log}.${LOG_KEEP} never appeared`).toBe(true);
    // The burst ends; one more rotation may still come: wait until the live log only grows by ticks.
    await sleep(3000);
    expect(LOG_MAX_BYTES).toBe(10 * 1024 * 1024);
    expect(LOG_KEEP).toBe(3);
    for (let n = 1; n <= LOG_KEEP; n++) expect(statSync(`${log}.${n}`).size).toBeGreaterThanOrEqual(LOG_MAX_BYTES);
    expect(existsSync(`${log}.${LOG_KEEP + 1}`)).toBe(false);
    const live = statSync(log).size;
    expect(live).toBeLessThan(LOG_MAX_BYTES);
    // copytruncate: the instance writes at the new end, not after a hole of zeros.
    await sleep(500);
    const text = readFileSync(log, 'utf8');
    expect(text.includes('\0')).toBe(false);
    expect(text).toMatch(/tick \d+\n$/);
    const after = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir })).services[0].instances[0];
    expect([after.pid, after.alive, after.restarts]).toEqual([before.pid, true, 0]);
    const logs = await symphony(['logs', 'w', '-n', '3'], { cwd: dir });
    expect(logs.stdout).toMatch(/tick \d+/);
  }, 120_000);
});
