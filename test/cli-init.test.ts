import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/util/ports.js';
import { get } from './fixtures/release-apps/traffic.js';
import { cleanup, symphony } from './helpers/cli.js';

// The quick start: `symphony init` in an empty directory, then `plan` and
// `apply --yes` of what it wrote, and the route answers from the starter app.
const dirs: string[] = [];
const emptyDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-init-'));
  dirs.push(dir);
  return dir;
};

afterAll(async () => {
  for (const dir of dirs) {
    await cleanup(join(dir, '.symphony'));
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('symphony init', () => {
  it('writes a stack that plan and apply take as it is; its route answers from both replicas', async () => {
    const dir = emptyDir();
    const port = await freePort();
    const init = await symphony(['init', '--port', String(port)], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`wrote ${join(dir, 'symphony.yaml')} and ${join(dir, 'web')}/server.mjs`);
    expect(readdirSync(dir).sort()).toEqual(['symphony.yaml', 'web']);
    expect(readFileSync(join(dir, 'symphony.yaml'), 'utf8')).toContain(`listen: ${port}, to: web`);

    const plan = await symphony(['plan'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/\+ web\s+app\s+create\s+web-[0-9a-f]{8}/);

    const apply = await symphony(['apply', '--yes'], { cwd: dir });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/^operation \S+ succeeded$/m);

    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await get(`http://127.0.0.1:${port}/`);
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^hello from \S+\n$/);
      answers.add(r.body);
    }
    expect(answers.size, [...answers].join('')).toBe(2);

    const again = await symphony(['plan'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes. The stack matches the recorded state.');
  });

  it('listens on 8080 without --port, and never overwrites a stack file', async () => {
    const dir = emptyDir();
    expect((await symphony(['init'], { cwd: dir })).code).toBe(0);
    const written = readFileSync(join(dir, 'symphony.yaml'), 'utf8');
    expect(written).toContain('listen: 8080, to: web');
    const twice = await symphony(['init', '--port', '9000'], { cwd: dir });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe(`error: ${join(dir, 'symphony.yaml')} already exists; init never overwrites\nnext: edit it, or run symphony init -f <other file>\n`);
    expect(readFileSync(join(dir, 'symphony.yaml'), 'utf8')).toBe(written);
  });

  it('refuses a --port that is not a port', async () => {
    const dir = emptyDir();
    const r = await symphony(['init', '--port', '70000'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: --port wants a port number from 1 to 65535, not 70000\nnext: symphony init --port 8081\n');
    expect(readdirSync(dir)).toEqual([]);
  });
});
