import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, type SpecIssue } from '../src/errors.js';
import { loadStack } from '../src/spec/index.js';

const BAD = join(import.meta.dirname, 'fixtures', 'spec', 'bad');

function issuesOf(file: string, env?: string): SpecIssue[] {
  try {
    loadStack(join(BAD, file), { env });
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).issues;
  }
  throw new Error(`${file} loaded without a SpecError`);
}

interface Case {
  file: string;
  env?: string;
  line: number;
  path: string;
  message: string;
}

const CASES: Case[] = [
  { file: 'syntax-error.yaml', line: 6, path: '', message: 'YAML syntax: Flow map in block collection must be sufficiently indented and end with a }' },
  { file: 'duplicate-yaml-key.yaml', line: 6, path: '', message: 'YAML syntax: Map keys must be unique' },
  { file: 'not-a-mapping.yaml', line: 1, path: '', message: 'the stack file must be a mapping with at least name: and services:' },
  { file: 'unknown-key-top.yaml', line: 2, path: 'version', message: 'unknown key "version"; allowed keys at the top level: name, services, routes, secrets, environments, smoke, pipeline, observability, runtime' },
  { file: 'autoscale-min-max.yaml', line: 7, path: 'services.web.autoscale.max', message: 'is invalid: min must not be above max' },
  { file: 'autoscale-replicas.yaml', line: 5, path: 'services.web.replicas', message: 'is invalid: replicas is the starting count and must lie between autoscale.min and autoscale.max' },
  { file: 'autoscale-thresholds.yaml', line: 8, path: 'services.web.autoscale.cpu.down', message: 'is invalid: cpu.down must be below cpu.up, or it would scale down what it just scaled up' },
  { file: 'unknown-key-service.yaml', line: 5, path: 'services.api.replica', message: 'unknown key "replica"; allowed keys at services.api: runtime, uses, volume, env, run, image, port, build, dir, replicas, listens, health, deploy, backup, autoscale' },
  { file: 'unknown-key-deploy.yaml', line: 7, path: 'services.api.deploy.stratgy', message: 'unknown key "stratgy"; allowed keys at services.api.deploy: strategy, drain, grace, warm, steps, pause, max_unavailable, max_surge, sticky, analysis' },
  { file: 'unknown-key-route.yaml', line: 8, path: 'routes[0].prefix', message: 'unknown key "prefix"; allowed keys at routes[0]: listen, to, host, path, timeout' },
  { file: 'wrong-type.yaml', line: 5, path: 'services.api.replicas', message: 'must be a number, got the string "two"' },
  { file: 'bad-enum.yaml', line: 5, path: 'services.api.deploy.strategy', message: 'must be one of blue-green, canary, rolling, recreate (got "fast")' },
  { file: 'bad-duration.yaml', line: 7, path: 'services.api.health.interval', message: 'must be a duration such as 500ms, 10s, 5m or 1h (got "2 seconds")' },
  { file: 'negative-replicas.yaml', line: 5, path: 'services.api.replicas', message: 'must be >= 0' },
  { file: 'bad-service-name.yaml', line: 3, path: 'services.Api', message: 'invalid name "Api": must be lowercase letters, digits and dashes, starting with a letter, at most 40 long' },
  { file: 'no-kind.yaml', line: 3, path: 'services.api', message: 'has no kind: give it exactly one of run or image (app), postgres, etcd, cluster; it has keys: dir, replicas' },
  { file: 'two-kinds.yaml', line: 3, path: 'services.db', message: 'has several kinds (run, postgres): keep exactly one of run or image (app), postgres, etcd, cluster' },
  { file: 'even-etcd-members.yaml', line: 6, path: 'services.kv.etcd.members', message: 'must be an odd number >= 1: quorum is a majority, so an even count tolerates no more failures than one member fewer (got 4)' },
  { file: 'cycle.yaml', line: 5, path: 'services.api.uses[0]', message: 'dependency cycle: api -> worker -> api; break it by removing one uses: entry or reference' },
  { file: 'self-reference.yaml', line: 6, path: 'services.api.env.SELF_URL', message: '${api.url} references the service itself; a service cannot depend on its own attributes' },
  { file: 'self-uses.yaml', line: 5, path: 'services.api.uses[0]', message: '"api" is the service itself; a service cannot use itself' },
  { file: 'duplicate-route-port.yaml', line: 9, path: 'routes[1].listen', message: 'port 8080 is already routed with the same host and path at routes[0]; change listen, host or path' },
  { file: 'postgres-port-clash.yaml', line: 4, path: 'services.db.postgres.port', message: 'port 8080 is already taken by route routes[0]; pick another port' },
  { file: 'missing-app-dir.yaml', line: 5, path: 'services.api.dir', message: `app directory ${join(BAD, 'no-such-app')} does not exist (paths are relative to the stack file's directory ${BAD})` },
  { file: 'missing-migrations.yaml', line: 5, path: 'services.db.migrations', message: `migrations directory ${join(BAD, 'no-such-migrations')} does not exist (paths are relative to the stack file's directory ${BAD})` },
  { file: 'missing-secret-file.yaml', line: 3, path: 'secrets.STRIPE_KEY.file', message: `secret file ${join(BAD, 'secrets', 'stripe.key')} does not exist (paths are relative to the stack file's directory ${BAD})` },
  { file: 'bad-ref-service.yaml', line: 6, path: 'services.api.env.DATABASE_URL', message: '${database.url} references unknown service "database"; services are: api' },
  { file: 'bad-ref-attr.yaml', line: 8, path: 'services.api.env.DATABASE_URL', message: '${db.uri}: postgres service "db" has no attribute "uri"; it has: url, host, port, user, database, password' },
  { file: 'undeclared-secret.yaml', line: 6, path: 'services.api.run', message: '${secrets.STRIPE_KEY} names a secret that is not declared under secrets: (declared: SESSION_KEY); add secrets.STRIPE_KEY: { env: STRIPE_KEY }' },
  { file: 'malformed-reference.yaml', line: 6, path: 'services.api.env.DATABASE_URL', message: 'malformed reference ${DB.url}: write ${service.attribute} or ${secrets.NAME}' },
  { file: 'unknown-env.yaml', env: 'prod', line: 5, path: 'environments', message: 'unknown environment "prod"; the stack file defines: production, staging' },
  { file: 'unknown-uses.yaml', line: 5, path: 'services.api.uses[0]', message: 'uses unknown service "cache"; services are: api' },
  { file: 'route-unknown-service.yaml', line: 6, path: 'routes[0].to', message: 'routes to unknown service "web"; services are: api' },
  { file: 'route-to-postgres.yaml', line: 6, path: 'routes[0].to', message: 'routes to postgres service "db"; routes can only go to app services (with run:)' },
  { file: 'shared-volume.yaml', line: 8, path: 'services.kv.volume', message: 'volume "data" already belongs to service db; give each service its own volume' },
  { file: 'secret-two-sources.yaml', line: 3, path: 'secrets.STRIPE_KEY', message: 'must have exactly one of env, file' },
  { file: 'password-secret-undeclared.yaml', line: 6, path: 'services.db.postgres.password_secret', message: 'names secret "DB_PASSWORD" that is not declared under secrets: (declared: none)' },
  { file: 'env-override-bad.yaml', env: 'staging', line: 10, path: 'services.api.deploy.strategy', message: 'must be one of blue-green, canary, rolling, recreate (got "canry")' },
  { file: 'env-override-unknown-service.yaml', env: 'staging', line: 8, path: 'environments.staging.services.web', message: 'overrides unknown service "web"; services are: api' },
  { file: 'env-named-default.yaml', line: 6, path: 'environments.default', message: '"default" is reserved for the file as written (no --env); rename this environment' },
  { file: 'env-route-unknown-service.yaml', env: 'staging', line: 10, path: 'environments.staging.routes[0].to', message: 'routes to unknown service "web"; services are: api' },
  { file: 'bad-env-name.yaml', line: 7, path: 'services.api.env.A=B C', message: 'invalid name "A=B C": must be letters, digits and underscores, not starting with a digit' },
  { file: 'canary-steps-falling.yaml', line: 5, path: 'services.api.deploy.steps', message: 'must rise, each step above the one before, and end at 100 or below it (100 is then implied last); got [100, 10]' },
  { file: 'yaml-alias-bomb.yaml', line: 3, path: '', message: 'YAML aliases expand to too many nodes (more than 100 uses of an alias): write the values out, or use fewer aliases' },
];

describe('malformed stack files', () => {
  it.each(CASES)('$file: line $line, $path', ({ file, env, line, path, message }) => {
    const issues = issuesOf(file, env);
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue.file).toBe(join(BAD, file));
    expect(issue.path).toBe(path);
    expect(issue.line).toBe(line);
    expect(issue.column).toBeGreaterThan(0);
    expect(issue.message).toBe(message);
  });

  it.each(CASES)('$file: the error reads file:line:column: path: message', ({ file, env, line, path, message }) => {
    let err: unknown;
    try {
      loadStack(join(BAD, file), { env });
    } catch (e) {
      err = e;
    }
    const column = (err as SpecError).issues[0].column;
    expect((err as SpecError).message).toBe(`${join(BAD, file)}:${line}:${column}: ${path ? path + ': ' : ''}${message}`);
  });

  it('reports every issue of a file at once, in line order', () => {
    const issues = issuesOf('many-issues.yaml');
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [4, 'services.db.postgres.bogus'],
      [7, 'services.api.replicas'],
      [8, 'services.api.uses[0]'],
      [9, 'services.api.env.URL'],
      [11, 'routes[0].to'],
    ]);
  });

  it('the same env override is fine without choosing the environment', () => {
    expect(() => loadStack(join(BAD, 'env-override-bad.yaml'))).not.toThrow();
  });

  it('formats the error as file:line:column: path: message with a next step', () => {
    let err: unknown;
    try {
      loadStack(join(BAD, 'bad-enum.yaml'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    const spec = err as SpecError;
    expect(spec.message).toBe(
      `${join(BAD, 'bad-enum.yaml')}:5:25: services.api.deploy.strategy: must be one of blue-green, canary, rolling, recreate (got "fast")`,
    );
    expect(spec.hint).toContain('symphony validate');
    expect(spec.toJSON()).toMatchObject({ code: 'spec_invalid', issues: [{ line: 5, column: 25 }] });
  });

  it('a missing stack file is a SpecError that says so', () => {
    const issues = issuesOf('does-not-exist.yaml');
    expect(issues).toEqual([
      { file: join(BAD, 'does-not-exist.yaml'), line: 1, column: 1, path: '', message: 'the stack file does not exist; pass another one with -f <file>' },
    ]);
  });
});
