import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWholeOn, rollUnderLoad, rollingStackFile, type RollingStack } from './fixtures/release-apps/rolling.js';
import { agentStatus, appliedStack } from './fixtures/release-apps/stack.js';
import { cleanup } from './helpers/cli.js';

// A rolling deploy whose second new replica exits at start is undone under
// load: the old replicas already replaced are started again — from the old
// release's own copy of its files, although the files on disk are the new
// (broken) version — and the whole service ends on the old release.
let st: RollingStack;

beforeAll(async () => {
  st = await appliedStack((port) => rollingStackFile('rollundo', port, 3), { web: { version: 'v1' } });
});

afterAll(async () => {
  if (st) await cleanup(st.state);
});

describe('a failed rolling deploy is undone', () => {
  it('the replaced old replicas run their own release again (v1 code), 0 failed requests', async () => {
    const before = (await agentStatus(st.state)).services[0].release!;
    const { code, out, report } = await rollUnderLoad(st, { version: 'v2', exitOrdinals: [1] });
    expect(code, out).toBe(1);
    expect(out).toMatch(/undone: web:rolling: .*web-[0-9a-f]{8}-1/);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v2 ?? 0).toBeGreaterThan(0);
    expect(readFileSync(join(st.dir, 'web', 'server.mjs'), 'utf8')).toContain('"v2"');
    await expectWholeOn(st, before, 3, 'v1');
  });
});
