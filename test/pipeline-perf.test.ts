import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctFreePorts } from '../src/util/ports.js';
import { cleanup, json, stopAgent, symphony } from './helpers/cli.js';
import { commit, gitRepo, stampApp } from './helpers/pipeline.js';

interface RunView {
  id: string;
  commit: string;
  status: string;
  error: string | null;
  artifacts: Record<string, string>;
  stages: Array<{ name: string; status: string; detail: string | null; perf?: { sent: number; failures: number; p95: number }; loads?: Array<{ sent: number; p95: number; steadyP95: number }>; baselineP95?: number | null }>;
}
interface HistoryView {
  runs: Array<{ id: string; status: string }>;
  perf: Record<string, Array<{ runId: string; passed: boolean; p95: number; requests: number }>>;
}

const stackFile = (ports: number[]): string => `name: shop
services:
  web:
    run: node server.mjs
    dir: ./app
    build: "date +%s%N > build.txt"
    health: { http: /healthz }
    deploy: { drain: 100ms, warm: 0s }
routes:
  - { listen: ${ports[1]}, to: web }
environments:
  staging: { routes: [{ listen: ${ports[0]}, to: web }] }
  production: {}
pipeline:
  stages:
    - { name: staging, deploy: staging }
    - name: perf
      perf: { env: staging, to: web, path: /, rate: 50, duration: 2s, max_regression: 20%, baseline_runs: 3 }
    - { name: production, deploy: production }
`;

describe('pipeline perf gate: baseline, regression, trend, recovery', () => {
  let repo: string;
  let state: string;
  let ports: number[];
  const cli = (args: string[], env: Record<string, string> = {}) => symphony([...args, '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo, env });
  const served = async (port: number): Promise<number> => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text());

  beforeAll(async () => {
    ports = await distinctFreePorts(2);
    state = mkdtempSync(join(tmpdir(), 'symphony-pipeline-perf-'));
    ({ dir: repo } = await gitRepo({ 'app/server.mjs': stampApp('v1'), 'symphony.yaml': stackFile(ports) }));
  }, 60_000);

  afterAll(async () => {
    await cleanup(state);
  }, 60_000);

  it('the first run sets the baseline; a run whose agent dies after the load is judged from its recorded numbers, the load not sent twice', async () => {
    const first = json<RunView>(await cli(['pipeline', 'run', '--wait', '--json']));
    expect(first.status, first.error ?? '').toBe('succeeded');
    expect(first.stages[2].detail).toMatch(/^p95 \d+\.\d ms: first run, sets the baseline \(.*0\/100 failed/);
    expect(first.stages[0].detail).toMatch(/ \(built\)$/);
    const afterFirst = await served(ports[0]);
    expect(afterFirst).toBe(100);

    // Same commit again, the agent killed after the load's numbers were recorded and before the stage ended.
    await stopAgent(state);
    const r = await cli(['pipeline', 'run', '--wait', '--json'], { SYMPHONY_FAILPOINTS: 'pipeline:perf' });
    const second = json<RunView>(r);
    expect(second.status, r.stderr).toBe('succeeded');
    expect(r.stderr).toContain(`agent unreachable; restarting it to resume ${second.id}`);
    expect(readFileSync(join(state, 'failpoints.fired'), 'utf8')).toBe('pipeline:perf\n');
    // The artifact is the same digest, reused (no "(built)"), and staging had nothing to change.
    expect(second.artifacts).toEqual(first.artifacts);
    expect(second.stages[0].detail).toBe(`web ${first.artifacts.web.slice(0, 12)}`);
    expect(second.stages[1].detail).toMatch(/^no change/);
    expect(second.stages[2].detail).toMatch(/^p95 \d+\.\d ms vs baseline \d+\.\d ms \(median of 1 passing run\): .*; limit 20% and 10\.0 ms/);
    expect(await served(ports[0])).toBe(afterFirst + 100);
  }, 180_000);

  it('a commit 40 ms slower fails the gate with both numbers; production is untouched; history shows the trend', async () => {
    const prodBefore = await (await fetch(`http://127.0.0.1:${ports[1]}/`)).text();
    await commit(repo, { 'app/server.mjs': stampApp('v2', 40) }, 'slower');
    const r = await cli(['pipeline', 'run', '--wait', '--json']);
    expect(r.code).toBe(1);
    const slow = json<RunView>(r);
    expect(slow.status).toBe('failed');
    expect(slow.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'failed', 'skipped']);
    const m = /^perf: regression: p95 (\d+\.\d) ms vs baseline (\d+\.\d) ms \(median of 2 passing runs\): \+(\d+\.\d) ms, \+\d+%; limit 20% and 10\.0 ms/.exec(slow.error ?? '');
    expect(m, slow.error ?? '').not.toBeNull();
    // A latency regression is measured twice and stands because both loads regressed.
    expect(slow.error).toMatch(/; confirmed by a second load \(p95 \d+(\.\d+)? ms\) \(\d/);
    expect(slow.stages[2].loads?.map((l) => [l.sent, l.steadyP95 >= 40])).toEqual([[100, true], [100, true]]);
    expect(Number(m![1])).toBeGreaterThanOrEqual(40);
    expect(Number(m![1]) - Number(m![2])).toBeGreaterThan(10);
    expect((await (await fetch(`http://127.0.0.1:${ports[1]}/`)).text())).toBe(prodBefore);
    expect((await cli(['pipeline', 'logs', slow.id, 'perf'])).stdout).toContain('regression: p95');

    const h = json<HistoryView>(await cli(['pipeline', 'history', '--json']));
    expect(h.runs.map((x) => x.status)).toEqual(['failed', 'succeeded', 'succeeded']);
    expect(h.perf.perf.map((s) => [s.runId, s.passed, s.requests])).toEqual([
      [slow.id, false, 100],
      ['run-2', true, 100],
      ['run-1', true, 100],
    ]);
    const text = (await cli(['pipeline', 'history'])).stdout;
    expect(text).toMatch(/perf p95 ms, oldest first \(! = failed the gate\): \d+\.\d \d+\.\d \d+\.\d!/);

    // A failed run never lowers the bar: the next unchanged-speed run is judged against the two passing runs.
    await commit(repo, { 'app/server.mjs': stampApp('v3') }, 'fast again');
    const fast = json<RunView>(await cli(['pipeline', 'run', '--wait', '--json']));
    expect(fast.status, fast.error ?? '').toBe('succeeded');
    expect(fast.stages[2].detail).toContain('(median of 2 passing runs)');
    expect((await (await fetch(`http://127.0.0.1:${ports[1]}/`)).text())).toMatch(/^v3 /);
  }, 240_000);

  it('a load spoiled once (the first 100 requests 40 ms late) is measured again and passes on the second; the trend keeps the judged one', async () => {
    await commit(repo, { 'app/server.mjs': stampApp('v4', 40, 100) }, 'slow only at first');
    const run = json<RunView>(await cli(['pipeline', 'run', '--wait', '--json']));
    const log = (await cli(['pipeline', 'logs', run.id, 'perf'])).stdout;
    expect(run.status, `${run.error}\n${log}`).toBe('succeeded');
    const perf = run.stages[2];
    expect(perf.detail).toMatch(/^p95 \d+\.\d ms vs baseline \d+\.\d ms \(median of 3 passing runs\): .*; the first load's p95 was \d+(\.\d+)? ms \(a regression\), this second load's is not \(/);
    expect(perf.loads?.map((l) => l.sent)).toEqual([100, 100]);
    expect(perf.loads![0].steadyP95).toBeGreaterThanOrEqual(40);
    expect(perf.loads![1].steadyP95).toBeLessThan(40);
    expect(perf.perf).toEqual(perf.loads![1]);
    // Both loads reached the new staging release: its own counter started at 0.
    expect(await served(ports[0])).toBe(200);
    const h = json<HistoryView>(await cli(['pipeline', 'history', '--json']));
    expect(h.perf.perf[0]).toMatchObject({ runId: run.id, passed: true, p95: perf.loads![1].p95 });
  }, 240_000);

  it('every pipeline verb used --state-dir: nothing was written next to the stack file', () => {
    expect(existsSync(join(repo, '.symphony'))).toBe(false);
    expect(existsSync(join(state, 'state.db'))).toBe(true);
  });
});
