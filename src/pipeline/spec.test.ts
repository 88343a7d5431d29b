import { describe, expect, it } from 'vitest';
import { SpecError } from '../errors.js';
import { parseStackText } from '../spec/index.js';

const stack = (pipeline: string): string => `name: shop
services:
  web: { run: node server.js }
  db: { postgres: { version: "15" } }
environments:
  staging: { routes: [{ listen: 18080, to: web }] }
pipeline:
${pipeline}`;

function issues(text: string): Array<{ line: number; path: string; message: string }> {
  try {
    parseStackText(text, '/tmp/x/symphony.yaml', { dir: '/tmp' });
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => ({ line: i.line, path: i.path, message: i.message }));
    throw err;
  }
  return [];
}

describe('pipeline: section', () => {
  it('loads the issue\'s example with defaults left to the engine', () => {
    const s = parseStackText(
      stack(`  stages:
    - { name: test, run: npm test }
    - { name: staging, deploy: staging }
    - name: perf
      perf: { env: staging, to: web, path: /, rate: 200, duration: 30s, max_regression: 20%, baseline_runs: 5 }
    - { name: approve, approve: { reviewers: [alice, bob], timeout: 24h } }
    - { name: production, deploy: default }
  notify: [{ webhook: "http://127.0.0.1:9/hook", on: [failed] }]`),
      '/tmp/x/symphony.yaml',
      { dir: '/tmp' },
    );
    expect(s.pipeline?.stages.map((x) => x.name)).toEqual(['test', 'staging', 'perf', 'approve', 'production']);
    expect(s.pipeline?.stages[2].perf?.max_regression).toBeCloseTo(0.2);
  });

  it.each([
    ['an unknown environment', '  stages: [{ name: prod, deploy: prodd }]', 8, 'pipeline.stages[0].deploy', 'no environment named prodd; environments: default, staging'],
    ['two kinds in one stage', '  stages: [{ name: x, run: "true", deploy: staging }]', 8, 'pipeline.stages[0]', 'must have exactly one of run, deploy, perf, approve, rehearse'],
    ['a perf gate on a database', '  stages: [{ name: p, perf: { env: staging, to: db } }]', 8, 'pipeline.stages[0].perf.to', 'must name an app service with a route; app services: web'],
    ['a bad regression limit', '  stages: [{ name: p, perf: { env: staging, to: web, max_regression: lots } }]', 8, 'pipeline.stages[0].perf.max_regression', 'must be a percentage such as 20%'],
    ['a stage name twice', '  stages:\n    - { name: t, run: "true" }\n    - { name: t, run: "false" }', 10, 'pipeline.stages[1].name', 'stage name t is used twice; give each stage its own name'],
    ['no reviewers', '  stages: [{ name: a, approve: { reviewers: [] } }]', 8, 'pipeline.stages[0].approve.reviewers', 'must have at least 1 item'],
    ['an unknown stage key', '  stages: [{ name: a, run: "true", env: staging }]', 8, 'pipeline.stages[0].env', 'unknown key "env"; allowed keys at pipeline.stages[0]: name, run, dir, timeout, deploy, perf, approve, rehearse'],
  ])('%s: file:line:path and what is allowed', (_n, text, line, path, message) => {
    expect(issues(stack(text))).toContainEqual({ line, path, message: expect.stringContaining(message) });
  });
});
