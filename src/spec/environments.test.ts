import { describe, expect, it } from 'vitest';
import { deepMerge, overridePath, selectEnvironment } from './environments.js';

describe('deepMerge', () => {
  it.each([
    [{ a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [{ a: { x: 1, y: 2 } }, { a: { y: 3 } }, { a: { x: 1, y: 3 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: { x: 1 } }, { a: 'flat' }, { a: 'flat' }],
    [{ a: 1, b: 2 }, { b: null }, { a: 1 }],
    [{ a: { x: { y: 1, z: 2 } } }, { a: { x: { z: null } } }, { a: { x: { y: 1 } } }],
  ])('%j <- %j', (base, override, want) => {
    expect(deepMerge(base, override)).toEqual(want);
  });

  it('leaves the base untouched', () => {
    const base = { a: { x: 1 } };
    deepMerge(base, { a: { x: 2 } });
    expect(base).toEqual({ a: { x: 1 } });
  });
});

describe('selectEnvironment', () => {
  const envs = { staging: { routes: [{ listen: 1, to: 'api' }], services: { api: { replicas: 1 }, ghost: {} }, require_rehearsal: true }, production: {} };

  it('reads overrides, routes and require_rehearsal; flags overrides of unknown services', () => {
    expect(selectEnvironment(envs, ['api'], 'staging')).toEqual({
      name: 'staging',
      services: { api: { replicas: 1 } },
      routes: [{ listen: 1, to: 'api' }],
      requireRehearsal: true,
      findings: [{ path: ['environments', 'staging', 'services', 'ghost'], message: 'overrides unknown service "ghost"; services are: api' }],
    });
  });

  it.each([
    [undefined, 'default', []],
    ['default', 'default', []],
    ['qa', 'qa', ['unknown environment "qa"; the stack file defines: production, staging']],
  ])('env %s', (name, want, messages) => {
    const got = selectEnvironment(envs, ['api'], name);
    expect([got.name, got.findings.map((f) => f.message)]).toEqual([want, messages]);
  });

  it('says how to add an environment when there are none', () => {
    expect(selectEnvironment(undefined, [], 'qa').findings[0].message).toBe(
      'unknown environment "qa"; the stack file defines no environments (add environments.qa: {})',
    );
  });
});

describe('overridePath', () => {
  const has = (p: (string | number)[]) => p.join('.') === 'environments.staging.services.api.replicas';
  it.each([
    ['staging', ['services', 'api', 'replicas'], ['environments', 'staging', 'services', 'api', 'replicas']],
    ['staging', ['services', 'api', 'run'], undefined],
    ['staging', ['services', 'api'], undefined],
    ['default', ['services', 'api', 'replicas'], undefined],
    ['staging', ['routes', 0], undefined],
  ] as const)('%s %j', (env, path, want) => {
    expect(overridePath(env, [...path], has)).toEqual(want);
  });
});
