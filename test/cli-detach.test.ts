import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRuntimeDriver } from '../src/runtime/registry.js';
import { Journal } from '../src/state/journal.js';
import { StateStore } from '../src/state/store.js';
import type { OperationRecord, StepRecord } from '../src/state/types.js';
import { pidAlive } from '../src/util/pid.js';
import { Load, get } from './fixtures/release-apps/traffic.js';
import { agentStatus, appliedStack, setApp } from './fixtures/release-apps/stack.js';
import { BIN, cleanup, stopAgent, symphony } from './helpers/cli.js';

// A following `symphony apply --yes` is only a viewer: Ctrl-C detaches it
// (exit 130, with the command that follows the operation again) and `kill -9`
// of it changes nothing; the agent runs the operation to its end either way.
let dir: string;
let state: string;
let port: number;

beforeAll(async () => {
  ({ dir, state, port } = await appliedStack((port) => `name: detach
services:
  web:
    run: node server.mjs
    dir: ./web
    replicas: 2
    health: { http: /healthz, interval: 100ms }
    deploy: { drain: 1s, grace: 2s, warm: 0s }
routes:
  - { listen: ${port}, to: web }
`, { web: { version: 'v1' } }));
});

afterAll(async () => {
  await cleanup(state);
});

interface Following {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `symphony apply --yes` as a real child process in a process group of its own,
 * so that a signal to the group is what Ctrl-C on a terminal sends.
 */
function followingApply(): Following {
  const child = spawn(process.execPath, [BIN, 'apply', '--yes'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, stdout: () => out, exited };
}

/** Wait until the CLI printed that its operation started, and until the agent has `step` started; the operation's id. */
async function midApply(f: Following, step: string): Promise<string> {
  let opId: string | undefined;
  for (let i = 0; i < 600 && !opId; i++) {
    opId = /operation (\S+) started \(Ctrl-C detaches; it keeps running: symphony attach \1\)/.exec(f.stderr())?.[1];
    if (!opId) await sleep(50);
  }
  if (!opId) throw new Error(`the CLI never said the operation started:\n${f.stderr()}`);
  for (let i = 0; i < 600; i++) {
    const { operation, steps } = journal(opId);
    if (operation.status === 'running' && steps.some((s) => s.name === step && s.status === 'started')) return opId;
    await sleep(25);
  }
  throw new Error(`step ${step} of ${opId} never started`);
}

function journal(opId: string): { operation: OperationRecord; steps: StepRecord[] } {
  const store = new StateStore(state);
  try {
    const j = new Journal(store);
    return { operation: j.list('default', 10).find((o) => o.id === opId)!, steps: j.steps(opId) };
  } finally {
    store.close();
  }
}

const agentPid = (): number => Number(readFileSync(join(state, 'agent.pid'), 'utf8').trim());

/** The operation succeeded with every step done, the agent that ran it is the one that started it, and only the new release runs and serves. */
async function finishedWhole(opId: string, agent: number, version: string): Promise<void> {
  const { operation, steps } = journal(opId);
  expect(operation.status, operation.error ?? '').toBe('succeeded');
  expect(steps.map((s) => [s.name, s.status])).toEqual(steps.map((s) => [s.name, 'done']));
  expect(agentPid(), 'the agent was restarted: the operation did not just go on').toBe(agent);
  expect(pidAlive(agent)).toBe(true);
  const web = (await agentStatus(state)).services.find((x) => x.name === 'web')!;
  expect(web.instances.map((i) => [i.release, i.alive])).toEqual([
    [web.release, true],
    [web.release, true],
  ]);
  const observed = (await getRuntimeDriver('process', { scope: state }).list()).map((o) => o.id).sort();
  expect(observed, 'a process runs that no record claims').toEqual(web.instances.map((i) => i.id).sort());
  for (let i = 0; i < 5; i++) expect((await get(`http://127.0.0.1:${port}/`)).body).toMatch(new RegExp(`^${version} `));
}

describe('a following apply', () => {
  it('Ctrl-C detaches: exit 130 and how to re-attach; the operation goes on and symphony attach follows it to success', async () => {
    // The following CLI starts the agent itself: the agent must not be in the CLI's process group.
    await stopAgent(state);
    setApp(dir, 'web', { version: 'v2', startDelayMs: 3000 });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 1 }).start();
    await load.flowing();
    const f = followingApply();
    const opId = await midApply(f, 'web:health');
    const agent = agentPid();
    process.kill(-f.child.pid!, 'SIGINT');
    const exit = await f.exited;

    expect(exit, f.stderr()).toEqual({ code: 130, signal: null });
    expect(f.stderr()).toMatch(new RegExp(`\\ndetached; operation ${opId} keeps running: symphony attach ${opId}\\n$`));
    expect(f.stderr()).not.toMatch(/error|\n\s+at /i);
    expect(f.stdout()).toBe('');
    expect(journal(opId).operation.status, 'the operation ended with the CLI').toBe('running');
    expect(pidAlive(agent), 'Ctrl-C reached the agent').toBe(true);

    const r = await symphony(['attach', opId], { cwd: dir });
    const report = await load.stop();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe(`operation ${opId} succeeded\n`);
    expect(r.stderr).toContain('done    web:stop-old');
    expect(r.stderr).not.toContain('agent unreachable');
    expect(report.failed, report.failures.join('\n')).toBe(0);
    await finishedWhole(opId, agent, 'v2');
  });

  it('kill -9 of the CLI mid-apply changes nothing: the operation finishes and the new release serves', async () => {
    setApp(dir, 'web', { version: 'v3', startDelayMs: 3000 });
    const load = new Load(`http://127.0.0.1:${port}`, { keepAlive: 2, fresh: 1 }).start();
    await load.flowing();
    const f = followingApply();
    const opId = await midApply(f, 'web:health');
    const agent = agentPid();
    f.child.kill('SIGKILL');
    expect(await f.exited).toEqual({ code: null, signal: 'SIGKILL' });

    for (let i = 0; i < 600 && journal(opId).operation.status === 'running'; i++) await sleep(50);
    const report = await load.stop();
    await finishedWhole(opId, agent, 'v3');
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.versions.v3).toBeGreaterThan(0);
  });
});
