import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/util/ports.js';
import { expectCapacityKept, expectWholeOn, rollUnderLoad, rollingStackFile, type RollingStack } from './fixtures/release-apps/rolling.js';
import { agentStatus, releaseFiles } from './fixtures/release-apps/stack.js';
import { cleanup, stackDir, symphony } from './helpers/cli.js';

// Rolling (3 replicas, max_surge 1) under load: the route is sampled from the
// router and the agent while the deploy runs; capacity never drops below 3
// healthy running instances and the route never points at a stopped one.
let st: RollingStack;

beforeAll(async () => {
  const port = await freePort();
  const dir = stackDir(releaseFiles(rollingStackFile('rolling', port, 3), { web: { version: 'v1' } }));
  st = { dir, state: join(dir, '.symphony'), port };
  const r = await symphony(['apply', '--yes'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await cleanup(st.state);
});

describe('rolling with replicas 3, max_surge 1', () => {
  it('ends with 3 new replicas, 0 failed requests, never fewer than 3 healthy serving instances', async () => {
    const before = (await agentStatus(st.state)).services[0].release!;
    const { code, out, report, samples } = await rollUnderLoad(st, { version: 'v2' });
    expect(code, out).toBe(0);
    expect(out).toContain('web:rolling');
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expectCapacityKept(samples, 3);
    const after = (await agentStatus(st.state)).services[0].release!;
    expect(after).not.toBe(before);
    await expectWholeOn(st, after, 3, 'v2');
  });
});
