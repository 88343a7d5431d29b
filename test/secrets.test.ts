import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/plan/types.js';
import { freePort } from '../src/util/ports.js';
import { appFiles, cleanup, json, stackDir, symphony } from './helpers/cli.js';

// A secret value must never appear in any output or file but the encrypted store.
const VALUE = `sekret-${randomBytes(8).toString('hex')}`;
const FILE_VALUE = `filesekret-${randomBytes(8).toString('hex')}`;
let dir: string;
let state: string;
let port: number;
const outputs: string[] = [];

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = join(root, name);
    const st = statSync(p);
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [p] : [];
  });
}

const run = async (args: string[], env: Record<string, string> = { SYM_TEST_SECRET: VALUE }): Promise<ReturnType<typeof symphony>> => {
  const r = await symphony(args, { cwd: dir, env });
  outputs.push(r.stdout, r.stderr);
  return r;
};

beforeAll(async () => {
  port = await freePort();
  dir = stackDir({
    'symphony.yaml': `name: hush
secrets:
  api_key: { env: SYM_TEST_SECRET }
  cert: { file: ./cert.txt }
services:
  api:
    run: node server.mjs
    dir: ./api
    env: { APP_SECRET: "\${secrets.api_key}", OTHER: "\${secrets.cert}" }
    health: { http: /healthz, interval: 100ms }
    volume: data
    backup: { retention: { full: 2 } }
routes:
  - { listen: ${port}, to: api }
`,
    'cert.txt': FILE_VALUE + '\n',
    ...appFiles('api'),
  });
  state = join(dir, '.symphony');
});

afterAll(async () => {
  await cleanup(state);
});

describe('secrets', () => {
  it('reach the instance but no output, plan, status, log or state file', async () => {
    expect((await run(['validate'])).code).toBe(0);
    expect((await run(['plan'])).code).toBe(0);
    const plan = json<Plan>(await run(['plan', '--json']));
    expect(Object.values(plan.releases)[0].secretDigests).toHaveProperty('api_key');
    expect((await run(['plan', '-o', join(dir, 'saved-plan.json')])).code).toBe(0);
    const applied = await run(['apply', join(dir, 'saved-plan.json')]);
    expect(applied.code, applied.stderr).toBe(0);
    const digest = await (await fetch(`http://127.0.0.1:${port}/secret-digest`)).text();
    expect(digest).toBe(createHash('sha256').update(VALUE).digest('hex'));
    for (const args of [['status'], ['status', '--json'], ['logs', 'api'], ['drift', '--json'], ['apply', '--yes', '--json'], ['history'], ['history', 'api', '--json'], ['output', 'api'], ['attach']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }

    // A changed secret replaces the release and says so, by name only.
    const changed = await run(['plan', '--json'], { SYM_TEST_SECRET: VALUE + '-2' });
    expect(json<Plan>(changed).changes[0].reasons).toContain('secret api_key changed');
    outputs.push(JSON.stringify(json<Plan>(changed)));

    // A missing or empty secret source is a clear error that names the variable, not a value.
    for (const [env, why] of [[{}, 'not set'], [{ SYM_TEST_SECRET: '' }, 'empty']] as const) {
      const missing = await run(['plan'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr.split('\n').slice(0, 2)).toEqual([`error: secret api_key: environment variable SYM_TEST_SECRET is ${why}`, 'next: export SYM_TEST_SECRET=... and run the command again']);
    }

    for (const out of outputs) {
      expect(out).not.toContain(VALUE);
      expect(out).not.toContain(FILE_VALUE);
    }
    const files = [...filesUnder(state), join(dir, 'saved-plan.json')];
    expect(files.some((f) => f.endsWith('state.db'))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(VALUE), `${f} contains the secret`).toBe(false);
      expect(bytes.includes(FILE_VALUE), `${f} contains the file secret`).toBe(false);
    }
    expect(statSync(join(state, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'state.db')).mode & 0o777).toBe(0o600);
  });

  it('are masked when an app prints them to its log', async () => {
    writeFileSync(join(dir, 'api/server.mjs'), `console.log('leaking ' + process.env.APP_SECRET);\n` + readFileSync(join(dir, 'api/server.mjs'), 'utf8'));
    expect((await run(['apply', '--yes'])).code).toBe(0);
    const logs = await run(['logs', 'api']);
    expect(logs.stdout).toContain('leaking (secret)');
    expect(logs.stdout).not.toContain(VALUE);
  });

  it('stay out of rollback, rehearse, history and attach', async () => {
    const from = outputs.length;
    const back = await run(['rollback', 'api']);
    expect(back.code, back.stderr).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/secret-digest`)).text()).toBe(createHash('sha256').update(VALUE).digest('hex'));
    writeFileSync(join(dir, 'api/server.mjs'), readFileSync(join(dir, 'api/server.mjs'), 'utf8') + '// v3\n');
    const rehearsal = await run(['rehearse']);
    expect(rehearsal.code, rehearsal.stderr).toBe(0);
    for (const args of [['history'], ['history', 'api', '--json'], ['attach'], ['attach', '--json'], ['status', '--json'], ['events'], ['events', '--json', '-n', '500'], ['pause', 'api'], ['resume', 'api'], ['drift']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(outputs.length - from).toBe(24);
    for (const out of outputs.slice(from)) {
      expect(out).not.toContain(VALUE);
      expect(out).not.toContain(FILE_VALUE);
    }
    // The leaking app's own log file holds what it printed (logs masks it on the way out); every other file is clean.
    for (const f of filesUnder(state).filter((f) => !f.includes('/logs/'))) expect(readFileSync(f).includes(VALUE), `${f} contains the secret`).toBe(false);
  });

  it('stay out of backup and restore', async () => {
    const from = outputs.length;
    const taken = await run(['backup', 'now', 'api', '--wait', '--json']);
    expect(taken.code, taken.stderr).toBe(0);
    const id = json<{ backup: { id: string } }>(taken).backup.id;
    for (const args of [['backup', 'now', 'api', '--wait'], ['backup', 'list', 'api'], ['backup', 'list', 'api', '--json'], ['backup', 'verify', 'api', id], ['backup', 'verify', 'api', id, '--json'], ['restore', 'api', '--backup', id, '--yes'], ['history', 'api'], ['status']]) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(outputs.length - from).toBe(18);
    for (const out of outputs.slice(from)) {
      expect(out).not.toContain(VALUE);
      expect(out).not.toContain(FILE_VALUE);
    }
    for (const f of filesUnder(state).filter((f) => !f.includes('/logs/'))) expect(readFileSync(f).includes(VALUE), `${f} contains the secret`).toBe(false);
  });

  it('stay out of destroy and of what it leaves', async () => {
    const from = outputs.length;
    const r = await run(['destroy', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect((await run(['events', '--json', '-n', '500'])).code).toBe(0);
    for (const out of outputs.slice(from)) {
      expect(out).not.toContain(VALUE);
      expect(out).not.toContain(FILE_VALUE);
    }
    for (const f of filesUnder(state).filter((f) => !f.includes('/logs/'))) expect(readFileSync(f).includes(VALUE), `${f} contains the secret`).toBe(false);
  });
});
