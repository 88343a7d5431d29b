import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStack, parseStackText, type LoadedStack } from './index.js';

const GOOD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'spec', 'good');
const FILE = '/stacks/shop/symphony.yaml';

type Shape = Pick<LoadedStack, 'env' | 'services' | 'routes'>;

function shape(text: string, env?: string): Shape {
  const s = parseStackText(text, FILE, { env });
  return { env: s.env, services: s.services, routes: s.routes };
}

const CASES: { name: string; text: string; env?: string; want: Shape }[] = [
  {
    name: 'one app, nothing else',
    text: 'name: hello\nservices:\n  web:\n    run: node web.js\n',
    want: { env: 'default', routes: [], services: [{ name: 'web', kind: 'app', spec: { run: 'node web.js' }, deps: [] }] },
  },
  {
    name: 'dependencies first, ties broken by name',
    text: [
      'name: s',
      'services:',
      '  zeta: { run: z }',
      '  beta: { run: b, uses: [gamma] }',
      '  gamma: { run: g, env: { A: "${alpha.url}" } }',
      '  alpha: { run: a }',
    ].join('\n'),
    want: {
      env: 'default',
      routes: [],
      services: [
        { name: 'alpha', kind: 'app', spec: { run: 'a' }, deps: [] },
        { name: 'gamma', kind: 'app', spec: { run: 'g', env: { A: '${alpha.url}' } }, deps: ['alpha'] },
        { name: 'beta', kind: 'app', spec: { run: 'b', uses: ['gamma'] }, deps: ['gamma'] },
        { name: 'zeta', kind: 'app', spec: { run: 'z' }, deps: [] },
      ],
    },
  },
  {
    name: 'deps from uses, run and env references: sorted, deduplicated, secrets and shell vars left out',
    text: [
      'name: s',
      'secrets: { K: { env: K } }',
      'services:',
      '  db: { postgres: { version: "15" } }',
      '  kv: { etcd: { version: "3.4", members: 1 } }',
      '  api:',
      '    run: serve --db ${db.host}:${db.port} --port ${PORT}',
      '    uses: [kv, db]',
      '    env: { E: "${kv.endpoints}", K: "${secrets.K}", N: 3 }',
    ].join('\n'),
    want: {
      env: 'default',
      routes: [],
      services: [
        { name: 'db', kind: 'postgres', spec: { postgres: { version: '15' } }, deps: [] },
        { name: 'kv', kind: 'etcd', spec: { etcd: { version: '3.4', members: 1 } }, deps: [] },
        {
          name: 'api',
          kind: 'app',
          spec: { run: 'serve --db ${db.host}:${db.port} --port ${PORT}', uses: ['kv', 'db'], env: { E: '${kv.endpoints}', K: '${secrets.K}', N: '3' } },
          deps: ['db', 'kv'],
        },
      ],
    },
  },
  {
    name: 'environment: deep merge of services, null removes a key, routes replaced',
    env: 'staging',
    text: [
      'name: s',
      'services:',
      '  api:',
      '    run: serve',
      '    replicas: 3',
      '    env: { A: "1", B: "2" }',
      '    health: { http: /healthz }',
      '    deploy: { strategy: blue-green, drain: 10s }',
      'routes: [{ listen: 8080, to: api }]',
      'environments:',
      '  staging:',
      '    routes: [{ listen: 18080, to: api, host: staging.local }]',
      '    services:',
      '      api: { replicas: 1, env: { B: "two", C: "3" }, health: null, deploy: { strategy: canary } }',
    ].join('\n'),
    want: {
      env: 'staging',
      routes: [{ listen: 18080, to: 'api', host: 'staging.local' }],
      services: [
        {
          name: 'api',
          kind: 'app',
          spec: { run: 'serve', replicas: 1, env: { A: '1', B: 'two', C: '3' }, deploy: { strategy: 'canary', drain: '10s' } },
          deps: [],
        },
      ],
    },
  },
  {
    name: 'an environment without overrides keeps the base',
    env: 'production',
    text: 'name: s\nservices:\n  api: { run: serve }\nroutes: [{ listen: 80, to: api }]\nenvironments:\n  production: {}\n',
    want: { env: 'production', routes: [{ listen: 80, to: 'api' }], services: [{ name: 'api', kind: 'app', spec: { run: 'serve' }, deps: [] }] },
  },
  {
    name: "choosing 'default' is the same as choosing none",
    env: 'default',
    text: 'name: s\nservices:\n  api: { run: serve }\nenvironments:\n  staging: { services: { api: { replicas: 0 } } }\n',
    want: { env: 'default', routes: [], services: [{ name: 'api', kind: 'app', spec: { run: 'serve' }, deps: [] }] },
  },
];

describe('parseStackText on good stacks', () => {
  it.each(CASES)('$name', ({ text, env, want }) => {
    expect(shape(text, env)).toEqual(want);
  });

  it('reports file, dir, name, secrets (absolute files) and require_rehearsal', () => {
    const text = [
      'name: shop',
      'secrets: { B: { file: ./secrets/stripe.key }, A: { env: SHOP_A } }',
      'services: { api: { run: serve } }',
      'environments: { production: { require_rehearsal: true } }',
    ].join('\n');
    const s = parseStackText(text, 'symphony.yaml', { env: 'production', dir: GOOD });
    expect({ ...s, services: [] }).toEqual({
      file: join(process.cwd(), 'symphony.yaml'),
      dir: GOOD,
      env: 'production',
      name: 'shop',
      services: [],
      routes: [],
      secrets: [
        { name: 'A', env: 'SHOP_A' },
        { name: 'B', file: join(GOOD, 'secrets', 'stripe.key') },
      ],
      requireRehearsal: true,
      pipeline: null,
      observability: null,
    });
  });
});

describe('loadStack on the example stack', () => {
  it('orders services and derives deps; staging replaces routes and overrides api', () => {
    const base = loadStack(join(GOOD, 'shop.yaml'));
    expect(base.services.map((s) => [s.name, s.deps])).toEqual([
      ['db', []],
      ['kv', []],
      ['api', ['db', 'kv']],
      ['worker', ['api']],
    ]);
    expect(base.routes).toEqual([
      { listen: 8080, to: 'api' },
      { listen: 8080, to: 'worker', path: '/jobs' },
    ]);
    const staging = loadStack(join(GOOD, 'shop.yaml'), { env: 'staging' });
    const api = staging.services.find((s) => s.name === 'api');
    expect(api?.spec).toMatchObject({ replicas: 1, deploy: { strategy: 'canary', drain: '10s', steps: [10, 100] } });
    expect(api?.spec).not.toHaveProperty('health');
    expect(staging.routes).toEqual([{ listen: 18080, to: 'api' }]);
    expect(loadStack(join(GOOD, 'shop.yaml'), { env: 'production' }).requireRehearsal).toBe(true);
  });

  it('the minimal stack loads with no routes, secrets or deps', () => {
    const s = loadStack(join(GOOD, 'minimal.yaml'));
    expect([s.name, s.env, s.routes, s.secrets, s.services.map((x) => x.deps)]).toEqual(['hello', 'default', [], [], [[]]]);
  });
});
