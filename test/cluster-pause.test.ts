import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import { cleanup, json, stackDir, symphony } from './helpers/cli.js';
import { writeFileSync } from 'node:fs';

// `apply --pause-after 1` on a cluster-rolling replace stops after one member;
// `symphony resume` goes on one member at a time, then finishes.
let dir: string;
let state: string;
const stack = (snapshotCount: number): string => `name: paused
services:
  kv:
    etcd: { version: "3.4", members: 3, settings: { snapshot-count: ${snapshotCount} } }
    volume: kv-data
`;

beforeAll(async () => {
  dir = stackDir({ 'symphony.yaml': stack(10000) });
  state = join(dir, '.symphony');
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await cleanup(state);
});

const releasesOf = async (): Promise<string[]> => {
  const s = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
  return s.services[0].instances.map((i) => `${i.id}:${i.alive}`).sort();
};

describe('cluster-rolling step by step', () => {
  it('pauses after N members and resumes to the end', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack(20000));
    const first = await symphony(['apply', '--yes', '--pause-after', '1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/paused; continue with: symphony resume op-/);
    const s1 = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
    const oldRelease = s1.services[0].release!;
    const live1 = s1.services[0].instances.filter((i) => i.alive);
    expect(live1).toHaveLength(3);
    expect(live1.filter((i) => i.release !== oldRelease)).toHaveLength(1);

    const second = await symphony(['resume'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/paused/);
    const live2 = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir })).services[0].instances.filter((i) => i.alive);
    expect(live2.filter((i) => i.release !== oldRelease)).toHaveLength(2);

    const third = await symphony(['resume'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/succeeded/);
    const s3 = json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));
    expect(s3.services[0].release).not.toBe(oldRelease);
    expect(s3.services[0].instances.filter((i) => i.alive && i.release === s3.services[0].release)).toHaveLength(3);
    expect((await releasesOf()).every((x) => x.endsWith(':true'))).toBe(true);
    // The roll stopped each old member itself: none of them was taken for a crash and started again.
    const events = json<{ events: Array<{ kind: string; message: string }> }>(await symphony(['events', '-n', '500', '--json'], { cwd: dir })).events;
    expect(events.filter((e) => /^instance-(crashed|restarted)$/.test(e.kind)).map((e) => e.message)).toEqual([]);
    const none = await symphony(['resume'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no paused operation to resume');
  });
});
