import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../src/util/pid.js';
import { distinctFreePorts } from '../src/util/ports.js';
import { cleanup, json, symphony } from './helpers/cli.js';
import { commit, gitRepo, stampApp } from './helpers/pipeline.js';

interface RunView {
  id: string;
  commit: string;
  status: string;
  error: string | null;
  stages: Array<{ name: string; status: string; detail: string | null; operation?: string }>;
}
interface History {
  services: Array<{ current: string }>;
  operations: Array<{ id: string }>;
}

const stackFile = (ports: number[], hook: number, approveTimeout = '1h'): string => `name: shop
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
    - { name: test, run: "echo ran >> \\"$COUNTER\\" && ! grep -qsx yes FAIL" }
    - { name: staging, deploy: staging }
    - { name: approve, approve: { reviewers: [alice], timeout: ${approveTimeout} } }
    - { name: production, deploy: production }
  notify: [{ webhook: "http://127.0.0.1:${hook}/hook", on: [failed, waiting, succeeded, rejected, cancelled] }]
`;

describe('pipeline runs survive the agent, fail cleanly, and queue', () => {
  let repo: string;
  let state: string;
  let ports: number[];
  let hook: Server;
  const events: Array<{ event: string; id: string; status: string; detail: string | null }> = [];
  const counter = (): string => join(state, 'test-ran.log');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    symphony([...args, '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo, env: { COUNTER: counter(), ...env } });
  const status = async (id: string) => json<RunView>(await cli(['pipeline', 'status', id, '--json']));

  beforeAll(async () => {
    ports = await distinctFreePorts(3);
    state = mkdtempSync(join(tmpdir(), 'symphony-pipeline-state-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => (events.push(JSON.parse(body)), res.end()));
    }).listen(ports[2], '127.0.0.1');
    ({ dir: repo } = await gitRepo({ 'app/server.mjs': stampApp('v1'), 'symphony.yaml': stackFile(ports, ports[2]) }));
  }, 60_000);

  afterAll(async () => {
    hook.close();
    await cleanup(state);
  }, 60_000);

  it('an agent killed at each stage resumes the run: no stage runs twice, one deploy operation', async () => {
    // The agent kills itself after the test command (exit recorded, stage not), before and after the staging deploy.
    const started = await cli(['pipeline', 'run', '--wait', '--json'], { SYMPHONY_FAILPOINTS: 'pipeline:test,pipeline:staging:before,pipeline:staging' });
    const run = json<RunView>(started);
    expect(run.status, started.stdout + started.stderr).toBe('waiting');
    expect(started.stderr).toContain('agent unreachable; restarting it to resume run-1');
    expect(readFileSync(join(state, 'failpoints.fired'), 'utf8').trim().split('\n').sort()).toEqual(['pipeline:staging', 'pipeline:staging:before', 'pipeline:test']);
    expect(readFileSync(counter(), 'utf8')).toBe('ran\n');
    const staging = json<History>(await cli(['history', '-e', 'staging', '--json']));
    expect(staging.operations.map((o) => o.id)).toEqual([run.stages[2].operation]);

    // Killed while waiting for approval: the next agent waits on, to the same deadline.
    const before = (await status(run.id)).stages[3].detail;
    const pid = Number(readFileSync(join(state, 'agent.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    while (pidAlive(pid)) await sleep(20);
    const after = await status(run.id);
    expect(after.status).toBe('waiting');
    expect(after.stages[3].detail).toBe(before);
    const approved = json<RunView>(await cli(['pipeline', 'approve', run.id, '--as', 'alice', '--wait', '--json']));
    expect(approved.status).toBe('succeeded');
    expect(events.filter((e) => e.id === run.id).map((e) => e.status)).toEqual(['waiting', 'succeeded']);
  }, 240_000);

  it('a failed stage ends the run: later stages skipped, production untouched, reason and log kept', async () => {
    const prodBefore = json<History>(await cli(['history', '-e', 'production', '--json'])).services[0].current;
    await commit(repo, { FAIL: 'yes\n', 'app/server.mjs': stampApp('v2') }, 'breaks the tests');
    const r = await cli(['pipeline', 'run', '--wait', '--json']);
    expect(r.code).toBe(1);
    const run = json<RunView>(r);
    expect(run.status).toBe('failed');
    expect(run.stages.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped', 'skipped', 'skipped']);
    expect(run.error).toMatch(/^test: .* exited with 1 after .*; see: symphony pipeline logs run-2 test$/);
    expect(json<History>(await cli(['history', '-e', 'production', '--json'])).services[0].current).toBe(prodBefore);
    expect((await fetch(`http://127.0.0.1:${ports[1]}/`).then((x) => x.text())).startsWith('v1 ')).toBe(true);
    expect((await cli(['pipeline', 'logs', run.id, 'test'])).stdout).toContain('grep -qsx yes FAIL');
    expect(events.find((e) => e.id === run.id)).toMatchObject({ event: 'pipeline.run.failed', status: 'failed', detail: run.error });
  }, 120_000);

  it('one run at a time: a newer queued commit supersedes an older one; reject ends a run, a timeout rejects, cancel ends', async () => {
    await commit(repo, { FAIL: 'no\n' }, 'fixes the tests');
    const waiting = json<RunView>(await cli(['pipeline', 'run', '--wait', '--json']));
    expect(waiting.status).toBe('waiting');
    await commit(repo, { 'app/README': 'four\n' }, 'four');
    const queued = json<RunView>(await cli(['pipeline', 'run', '--json']));
    expect(queued.status).toBe('queued');
    await commit(repo, { 'symphony.yaml': stackFile(ports, ports[2], '2s') }, 'five: approvals time out after 2s');
    const newer = json<RunView>(await cli(['pipeline', 'run', '--json']));
    expect(newer.status).toBe('queued');
    const superseded = await status(queued.id);
    expect(superseded.status).toBe('cancelled');
    expect(superseded.error).toBe(`superseded by ${newer.id}, a newer commit`);
    expect((await status(waiting.id)).status).toBe('waiting');

    const rejected = json<RunView>(await cli(['pipeline', 'reject', waiting.id, '--as', 'alice', '--reason', 'not on a Friday', '--wait', '--json']));
    expect(rejected.status).toBe('rejected');
    expect(rejected.stages[3].detail).toMatch(/^rejected by alice at .*: not on a Friday$/);
    expect(rejected.stages[4].status).toBe('skipped');

    // The newest queued run starts by itself once the active one ended; its commit says 2s.
    let timedOut = await status(newer.id);
    for (let i = 0; i < 300 && !['rejected', 'failed'].includes(timedOut.status); i++) timedOut = (await sleep(200), await status(newer.id));
    expect(timedOut.status).toBe('rejected');
    expect(timedOut.stages[3].detail).toMatch(/^no reviewer decided before .*: timed out$/);

    await commit(repo, { 'symphony.yaml': stackFile(ports, ports[2]) }, 'six: approvals wait an hour again');
    const again = json<RunView>(await cli(['pipeline', 'run', '--wait', '--json']));
    expect(again.status).toBe('waiting');
    const cancelled = json<RunView>(await cli(['pipeline', 'cancel', again.id, '--json']));
    let end = cancelled;
    for (let i = 0; i < 50 && end.status !== 'cancelled'; i++) end = (await sleep(100), await status(again.id));
    expect(end.status).toBe('cancelled');
    expect(events.filter((e) => e.id === again.id).map((e) => e.status)).toEqual(['waiting', 'cancelled']);
  }, 240_000);
});
