import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../src/util/pid.js';
import { distinctFreePorts } from '../src/util/ports.js';
import { BIN, cleanup, json, symphony } from './helpers/cli.js';
import { commit, gitRepo, stampApp } from './helpers/pipeline.js';

interface RunView {
  id: string;
  commit: string;
  status: string;
  error: string | null;
  stages: Array<{ name: string; status: string; detail: string | null; operation?: string }>;
}
interface History {
  services: Array<{ current: string; releases: Array<{ id: string; status: string; commit: string | null; artifact: string }> }>;
  operations: Array<{ id: string; status: string }>;
}

const stackFile = (ports: number[]): string => `name: shop
services:
  web:
    run: node server.mjs
    dir: ./app
    build: "date +%s%N > build.txt"
    health: { http: /healthz, interval: 100ms, start_timeout: 3s }
    deploy: { drain: 100ms, warm: 0s }
routes:
  - { listen: ${ports[1]}, to: web }
environments:
  staging: { routes: [{ listen: ${ports[0]}, to: web }] }
  production: { require_rehearsal: true }
pipeline:
  stages:
    - { name: test, run: sh test.sh }
    - { name: staging, deploy: staging }
    - { name: rehearse, rehearse: production }
    - { name: production, deploy: production }
`;

/** An app that exits at once: its release never becomes healthy. */
const brokenApp = "console.error('cannot start: missing config'); process.exit(3);\n";

describe('pipeline triggers (watch, git hook), a killed CLI, rehearse, and a failed deploy undone', () => {
  let repo: string;
  let state: string;
  let ports: number[];
  const cli = (args: string[]) => symphony([...args, '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo });
  const status = async (id: string) => json<RunView>(await cli(['pipeline', 'status', id, '--json']));
  const runs = async () => json<{ runs: RunView[] }>(await cli(['pipeline', 'history', '--json'])).runs;
  const until = async (id: string, done: (r: RunView) => boolean): Promise<RunView> => {
    for (let i = 0; i < 300; i++) {
      const r = await status(id);
      if (done(r)) return r;
      await sleep(200);
    }
    throw new Error(`${id} did not get there: ${JSON.stringify(await status(id))}`);
  };
  const ended = (r: RunView): boolean => ['succeeded', 'failed', 'rejected', 'cancelled'].includes(r.status);
  const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();

  beforeAll(async () => {
    ports = await distinctFreePorts(2);
    state = mkdtempSync(join(tmpdir(), 'symphony-pipeline-triggers-'));
    ({ dir: repo } = await gitRepo({ 'app/server.mjs': stampApp('v1'), 'test.sh': 'true\n', 'symphony.yaml': stackFile(ports) }));
  }, 60_000);

  afterAll(async () => {
    await cleanup(state);
  }, 60_000);

  it('watch --once runs a new commit once; rehearse lets a require_rehearsal environment take the same artifact', async () => {
    const w = await cli(['pipeline', 'watch', '--once', '--json']);
    expect(w.code, w.stderr).toBe(0);
    const started = json<{ id: string; commit: string }>(w);
    const run = await until(started.id, ended);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(run.stages[3].detail).toMatch(/^rehearsal \S+ of production passed \(plan /);
    expect(await get(ports[1])).toBe(await get(ports[0]));
    const prod = json<History>(await cli(['history', '-e', 'production', '--json'])).services[0];
    expect(prod.releases.find((r) => r.id === prod.current)?.commit).toBe(run.commit);
    // Nothing new on the branch: no second run.
    const again = await cli(['pipeline', 'watch', '--once', '--json']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(await runs()).toHaveLength(1);
  }, 180_000);

  it('the CLI killed while it waits leaves the run going in the agent', async () => {
    await commit(repo, { 'test.sh': 'sleep 2\n', 'app/server.mjs': stampApp('v2') }, 'slow tests');
    const child = spawn(process.execPath, [BIN, 'pipeline', 'run', '--wait', '--json', '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo, stdio: 'ignore' });
    let id = '';
    for (let i = 0; i < 200 && !id; i++) {
      await sleep(100);
      id = (await runs()).find((r) => r.stages[1].status === 'running')?.id ?? '';
    }
    expect(id).toBe('run-2');
    child.kill('SIGKILL');
    while (child.pid && pidAlive(child.pid)) await sleep(20);
    const run = await until(id, ended);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(await get(ports[1])).toMatch(/^v2 /);
  }, 180_000);

  it('a deploy stage that fails is undone by its operation; later stages are skipped, production keeps running', async () => {
    const stagingBefore = json<History>(await cli(['history', '-e', 'staging', '--json'])).services[0].current;
    await commit(repo, { 'test.sh': 'true\n', 'app/server.mjs': brokenApp }, 'broken app');
    const r = await cli(['pipeline', 'run', '--wait', '--json']);
    expect(r.code).toBe(1);
    const run = json<RunView>(r);
    expect(run.status).toBe('failed');
    expect(run.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'failed', 'skipped', 'skipped']);
    expect(run.error).toMatch(/^staging: deploy to staging undone: .* \(operation \S+\)$/);
    const staging = json<History>(await cli(['history', '-e', 'staging', '--json']));
    expect(staging.services[0].current).toBe(stagingBefore);
    expect(staging.operations.find((o) => o.id === run.stages[2].operation)?.status).toBe('undone');
    expect(await get(ports[0])).toMatch(/^v2 /);
    expect(await get(ports[1])).toMatch(/^v2 /);
    expect((await cli(['pipeline', 'logs', run.id, 'staging'])).stdout).toContain(`operation ${run.stages[2].operation} started`);
  }, 180_000);

  it('hook install: each commit starts a run by itself', async () => {
    const h = await cli(['pipeline', 'hook', 'install', '--json']);
    expect(h.code, h.stderr).toBe(0);
    const hook = json<{ hook: string }>(h).hook;
    expect(hook).toBe(join(repo, '.git', 'hooks', 'post-commit'));
    expect(readFileSync(hook, 'utf8')).toContain('# symphony pipeline hook');
    const sha = await commit(repo, { 'app/server.mjs': stampApp('v4') }, 'fixed');
    let run: RunView | undefined;
    for (let i = 0; i < 200 && !run; i++) {
      await sleep(100);
      run = (await runs()).find((x) => x.commit === sha);
    }
    expect(run, 'the hook started no run').toBeDefined();
    expect((await until(run!.id, ended)).status).toBe('succeeded');
    expect(await get(ports[1])).toMatch(/^v4 /);
    // Installing again rewrites Symphony's own hook.
    expect((await cli(['pipeline', 'hook', 'install'])).code).toBe(0);
    expect(existsSync(hook)).toBe(true);
  }, 180_000);
});
