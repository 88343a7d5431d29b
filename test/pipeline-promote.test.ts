import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctFreePorts } from '../src/util/ports.js';
import { cleanup, json, symphony } from './helpers/cli.js';
import { editUncommitted, gitRepo, stampApp } from './helpers/pipeline.js';

interface RunView {
  id: string;
  commit: string;
  status: string;
  artifacts: Record<string, string>;
  stages: Array<{ name: string; status: string; detail: string | null; decision?: { by: string; at: string } }>;
}
interface History {
  services: Array<{ name: string; current: string; releases: Array<{ id: string; artifact: string; commit: string | null }> }>;
}

const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();

describe('pipeline: a commit through test, staging, perf, approval to production', () => {
  let repo: string;
  let sha: string;
  let state: string;
  let ports: number[];
  const cli = (args: string[]) => symphony([...args, '-f', join(repo, 'symphony.yaml'), '--state-dir', state], { cwd: repo });

  beforeAll(async () => {
    ports = await distinctFreePorts(2);
    state = mkdtempSync(join(tmpdir(), 'symphony-pipeline-state-'));
    const counter = join(state, 'builds-ran.log');
    ({ dir: repo, sha } = await gitRepo({
      'app/server.mjs': stampApp('v1'),
      'test.sh': 'test -f app/server.mjs && echo tests-passed\n',
      'symphony.yaml': `name: shop
services:
  web:
    run: node server.mjs
    dir: ./app
    build: "date +%s%N > build.txt && echo built >> ${counter}"
    health: { http: /healthz }
    deploy: { drain: 100ms, warm: 0s }
routes:
  - { listen: ${ports[1]}, to: web }
environments:
  staging: { routes: [{ listen: ${ports[0]}, to: web }] }
  production: {}
pipeline:
  stages:
    - { name: test, run: sh test.sh }
    - { name: staging, deploy: staging }
    - name: perf
      perf: { env: staging, to: web, rate: 50, duration: 2s }
    - { name: approve, approve: { reviewers: [alice, carol], prevent_self_review: true, timeout: 1h } }
    - { name: production, deploy: production }
`,
    }));
    // Never built, tested or shipped: the run takes the committed tree.
    editUncommitted(repo, { 'app/server.mjs': stampApp('DIRTY') });
  }, 60_000);

  afterAll(async () => {
    await cleanup(state);
  }, 60_000);

  it('runs to approval, waits, and promotes exactly the staging artifacts', async () => {
    const started = await cli(['pipeline', 'run', '--wait', '--json']);
    const run = json<RunView>(started);
    expect(run.commit).toBe(sha);
    expect(run.status, started.stderr).toBe('waiting');
    expect(run.stages.map((s) => [s.name, s.status])).toEqual([
      ['build', 'succeeded'],
      ['test', 'succeeded'],
      ['staging', 'succeeded'],
      ['perf', 'succeeded'],
      ['approve', 'waiting'],
      ['production', 'pending'],
    ]);
    expect(run.stages[3].detail).toMatch(/first run, sets the baseline.*0\/100 failed/);
    const staged = await get(ports[0]);
    expect(staged).toMatch(/^v1 \d+\n$/);
    expect(existsSync(join(state, 'builds-ran.log'))).toBe(true);

    const self = await cli(['pipeline', 'approve', run.id, '--as', 'carol']);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('carol wrote commit');
    const stranger = await cli(['pipeline', 'approve', run.id, '--as', 'mallory']);
    expect(stranger.stderr).toContain('mallory is not a reviewer of stage approve; reviewers: alice, carol');
    expect(json<RunView>(await cli(['pipeline', 'status', run.id, '--json'])).status).toBe('waiting');

    const approved = await cli(['pipeline', 'approve', run.id, '--as', 'alice', '--wait', '--json']);
    const done = json<RunView>(approved);
    expect(done.status, approved.stderr).toBe('succeeded');
    expect(done.stages[4].decision?.by).toBe('alice');
    expect(done.stages[4].detail).toMatch(/^approved by alice at /);

    // Production answers with staging's build stamp: the same files, built once.
    expect(await get(ports[1])).toBe(staged);
    expect(readFileSync(join(state, 'builds-ran.log'), 'utf8')).toBe('built\n');
    const prod = json<History>(await cli(['history', '-e', 'production', '--json'])).services[0];
    const stag = json<History>(await cli(['history', '-e', 'staging', '--json'])).services[0];
    const live = (h: History['services'][number]) => h.releases.find((r) => r.id === h.current)!;
    expect(live(prod).artifact).toBe(run.artifacts.web);
    expect(live(stag).artifact).toBe(run.artifacts.web);
    expect(live(prod).commit).toBe(sha);

    const logs = await cli(['pipeline', 'logs', run.id, 'test']);
    expect(logs.stdout).toContain('tests-passed');
  }, 180_000);
});
