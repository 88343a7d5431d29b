import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRehearsals, type RehearsalReport } from '../src/rehearse/index.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { expectRehearsalGone, targetPids as targetPidsOf } from './helpers/rehearsal.js';

// A routed app with a volume; a change whose new version crashes at start is
// rehearsed: the rehearsal fails at the plan's apply, every process, port and
// directory of the copy is gone, and the target kept its instances and data.
let dir: string;
let state: string;
let port: number;

const stack = (run: string, version = 'v1'): string => `name: rf
services:
  api:
    run: ${run}
    dir: ./api
    volume: api-data
    env: { APP_VERSION: ${version}, DATA_DIR: ${join(state, 'volumes', 'default', 'api-data')} }
    health: { http: /healthz, start_timeout: 4s }
    deploy: { drain: 0s, grace: 1s, warm: 0s }
routes:
  - { listen: ${port}, to: api }
smoke:
  - { http: "\${api.url}/healthz" }
environments:
  production: { require_rehearsal: true }
`;

const targetPids = (): Promise<string[]> => targetPidsOf(state);

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ ...appFiles('api') });
  state = join(dir, '.symphony');
  writeFileSync(join(dir, 'symphony.yaml'), stack('node server.mjs'));
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  writeFileSync(join(state, 'volumes', 'default', 'api-data', 'seed.txt'), 'target\n');
});

afterAll(async () => {
  await cleanup(state);
  rmSync(dir, { recursive: true, force: true });
});

describe('a failed rehearsal', () => {
  it('stops at the plan, tears the copy down completely and leaves the target as it was', async () => {
    const before = await targetPids();
    expect(before).toHaveLength(1);
    writeFileSync(join(dir, 'symphony.yaml'), stack('node -e "process.exit(3)"'));
    const r = await symphony(['rehearse', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const report = json<RehearsalReport>(r);
    expect(report.passed).toBe(false);
    expect(report.error?.stage).toBe('apply the plan');
    expect(report.error?.message).toMatch(/^rehearsal [0-9a-f]{8} failed at apply the plan: operation \S+ undone/);
    expect(report.stages.map((s) => [s.name, s.ok])).toEqual([
      ['copy state and volumes', true], ['start the copy agent', true], ['restore current releases', true], ['apply the plan', false],
    ]);
    expect(report.volumes.map((v) => [v.volume, v.method, v.consistent])).toEqual([['api-data', 'file-copy', true]]);
    expect(report.smoke).toEqual([]);

    await expectRehearsalGone(report);

    expect(await targetPids()).toEqual(before);
    expect(readFileSync(join(state, 'volumes', 'default', 'api-data', 'seed.txt'), 'utf8')).toBe('target\n');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v1 /);
    expect(readRehearsals(state).map((x) => [x.id, x.passed])).toEqual([[report.id, false]]);
  });

  it('a copy made while the target app keeps writing its volume is reported as not point-in-time, and is still made', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack('node server.mjs', 'v2'));
    let writes = 0;
    let stop = false;
    // Three writers at once, so the log is never quiet for the copy's 100 ms settle time, even on a loaded machine.
    const hammer = Promise.all([0, 1, 2].map(async () => {
      while (!stop) {
        const res = await fetch(`http://127.0.0.1:${port}/write`);
        if ((await res.text()) === 'written') writes++;
      }
    }));
    const r = await symphony(['rehearse'], { cwd: dir });
    stop = true;
    await hammer;
    expect(writes).toBeGreaterThan(50);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASSED/);
    expect(r.stdout).toMatch(/volume api-data \(api\) copied by file-copy: NOT point-in-time: writes\.log changed during each of 3 copies/);
    expect(r.stdout).toContain('copy torn down: no process, port or directory left');
    const last = readRehearsals(state).pop()!;
    expect(last.passed).toBe(true);
    expect(existsSync(join(state, 'rehearsals'))).toBe(false);
  });
});
