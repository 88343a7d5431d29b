import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvStatus } from '../src/agent/status.js';
import type { Plan } from '../src/plan/types.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A web app behind a route and a background worker that listens on nothing:
// the worker is judged by its process staying up, the web app by TCP on its
// port, the plan says so, and a failed gate says what it probed and how to
// judge it differently.
let dir: string;
let state: string;
let port: number;

const WORKER = `// Listens on nothing: a queue consumer as far as Symphony can tell.
if (process.env.WORKER_MODE === 'exit') setTimeout(() => process.exit(3), 300);
setInterval(() => console.log('worked one job'), 200);
process.on('SIGTERM', () => process.exit(0));
`;
const IDLE = `setInterval(() => {}, 1000);\nprocess.on('SIGTERM', () => process.exit(0));\n`;

const stack = (web: string, workerEnv = 'run'): string => `name: jobs
services:
  web:
${web}
    deploy: { drain: 500ms, grace: 1s }
  worker:
    run: node worker.mjs
    dir: ./worker
    env: { WORKER_MODE: "${workerEnv}" }
    deploy: { grace: 1s }
routes:
  - { listen: ${port}, to: web }
`;
const WEB = `    run: node server.mjs
    dir: ./web`;

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({ 'symphony.yaml': stack(WEB), ...appFiles('web'), 'worker/worker.mjs': WORKER, 'web/idle.mjs': IDLE });
  state = join(dir, '.symphony');
});

afterAll(async () => {
  await cleanup(state);
});

const status = async (): Promise<EnvStatus> => json<EnvStatus>(await symphony(['status', '--json'], { cwd: dir }));

describe('a stack with a worker that listens on nothing', () => {
  it('plans each release with the health rule it will be judged by', async () => {
    const r = await symphony(['plan'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\+ web .*\n\s+health: tcp on \$PORT every 1000ms \(default: a route targets web\)/);
    expect(r.stdout).toMatch(/\+ worker .*\n\s+health: process stays up 1000ms, no probe \(nothing routes to it and it declares no probe\)/);
    const plan = json<Plan>(await symphony(['plan', '--json'], { cwd: dir }));
    expect(plan.changes.map((c) => [c.service, c.health?.split(' ')[0]])).toEqual([['web', 'tcp'], ['worker', 'process']]);
  });

  it('applies: the worker is healthy once it stayed up, the web app serves', async () => {
    const t0 = Date.now();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const ms = Date.now() - t0;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    console.log(`worker stack: first apply (agent and router start included) took ${ms} ms`);
    const s = await status();
    const worker = s.services.find((x) => x.name === 'worker')!;
    expect(worker.instances.map((i) => [i.alive, i.health])).toEqual([[true, 'healthy']]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v1 /);
  });

  it('replaces the worker in about its settle time', async () => {
    writeFileSync(join(dir, 'worker/worker.mjs'), WORKER + '// v2\n');
    const t0 = Date.now();
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const ms = Date.now() - t0;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    console.log(`worker stack: replacing the worker took ${ms} ms`);
    expect(r.stderr).toMatch(/~ worker .*replace/);
  });

  it('fails a worker that exits before it settled, and keeps the web app serving', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack(WEB, 'exit'));
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/instance worker-[0-9a-f]{8}-0 exited before it became healthy \(last probe: no probe: the process must stay up 1000 ms\)/);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v1 /);
    writeFileSync(join(dir, 'symphony.yaml'), stack(WEB));
  });

  it('a failed TCP gate says what it probed and how to judge the service differently', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack(`    run: node idle.mjs
    dir: ./web
    health: { start_timeout: 1500ms }`));
    const r = await symphony(['apply', '--yes'], { cwd: dir });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    expect(out).toMatch(/did not become healthy within \d+ ms \(last probe: tcp 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)\); judged by tcp on \$PORT every 1000ms \(default: a route targets web\)/);
    expect(out).toMatch(/look at its log: \S+; to judge it differently: make it listen on \$PORT, or set services\.web\.health to \{ http: \/path \} or \{ exec: "cmd" \}, or to \{ tcp: false \}/);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toMatch(/^v1 /);
  });

  it('refuses listens: false on a service a route targets', async () => {
    writeFileSync(join(dir, 'symphony.yaml'), stack(`${WEB}\n    listens: false`));
    const r = await symphony(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/symphony\.yaml:\d+:\d+: services\.web\.listens: is false, but the route at routes\[0\] sends traffic to web; remove listens: false or the route/);
    writeFileSync(join(dir, 'symphony.yaml'), stack(WEB));
  });
});
