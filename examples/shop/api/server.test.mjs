// The pipeline's test stage (`node --test` in ./api): cheap checks that stop a
// broken commit before it reaches staging. The API's behaviour is checked
// against a real database by the perf stage's load on staging.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

test('server.mjs parses', () => {
  execFileSync(process.execPath, ['--check', new URL('./server.mjs', import.meta.url).pathname]);
});

test('the build installed pg', async () => {
  const pg = await import('pg');
  assert.equal(typeof pg.default.Pool, 'function');
});
