import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCapacityKept, expectWholeOn, rollUnderLoad, rollingStackFile, sampleRoute, type RollingStack, type RouteSample } from './fixtures/release-apps/rolling.js';
import { agentStatus, appliedStack, routerConfig, setApp } from './fixtures/release-apps/stack.js';
import { Load } from './fixtures/release-apps/traffic.js';
import { cleanup, symphony } from './helpers/cli.js';

// Rolling (3 replicas, max_surge 1) under load: the route is sampled from the
// router and the agent while the deploy runs; capacity never drops below 3
// healthy running instances and the route never points at a stopped one.
// Then the same with the agent SIGKILLed halfway (both releases in the route):
// the following apply starts a new agent, which resumes the roll.

/** A fresh stack on v1 for one describe block; cleaned up after it. */
function rollingStack(name: string): () => RollingStack {
  let st: RollingStack | null = null;
  beforeAll(async () => {
    st = await appliedStack((port) => rollingStackFile(name, port, 3), { web: { version: 'v1' } });
  });
  afterAll(async () => {
    if (st) await cleanup(st.state);
  });
  return () => st!;
}

describe('rolling with replicas 3, max_surge 1', () => {
  const stack = rollingStack('rolling');

  it('ends with 3 new replicas, 0 failed requests, never fewer than 3 healthy serving instances', async () => {
    const st = stack();
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

describe('agent killed halfway through a rolling deploy', () => {
  const stack = rollingStack('rollcrash');

  it('the roll resumes and finishes with 0 failed requests, never below 3 serving', async () => {
    const st = stack();
    const agentPid = (): number => Number(readFileSync(join(st.state, 'agent.pid'), 'utf8').trim());
    const before = agentPid();
    setApp(st.dir, 'web', { version: 'v2' });
    const load = new Load(`http://127.0.0.1:${st.port}`, { keepAlive: 3, fresh: 2 }).start();
    await load.flowing();
    const samples: RouteSample[] = [];
    let applying = true;
    let killed = false;
    const poll = (async () => {
      while (applying) {
        try {
          const [s, cfg] = await Promise.all([agentStatus(st.state), routerConfig(st.state)]);
          const x = sampleRoute(st.port, s, cfg);
          samples.push(x);
          if (!killed && x.releases.length === 2) {
            killed = true;
            process.kill(agentPid(), 'SIGKILL');
          }
        } catch {
          // the agent is down until the apply restarts it
        }
        await sleep(50);
      }
    })();
    const r = await symphony(['apply', '--yes'], { cwd: st.dir });
    applying = false;
    await poll;
    const report = await load.stop();

    expect(killed).toBe(true);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('agent unreachable; restarting it');
    expect(agentPid()).not.toBe(before);
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expectCapacityKept(samples, 3);
    const s = await agentStatus(st.state);
    expect(s.operation?.status).toBe('succeeded');
    await expectWholeOn(st, s.services[0].release!, 3, 'v2');
  });
});
