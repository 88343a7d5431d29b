import { describe, expect, it } from 'vitest';
import { checkReferences, findReferences, kindOf, KIND_ATTRIBUTES, type ReferenceSite } from './references.js';

describe('findReferences', () => {
  it.each([
    ['${db.url}', [{ raw: '${db.url}', service: 'db', attr: 'url' }]],
    ['${secrets.STRIPE_KEY}', [{ raw: '${secrets.STRIPE_KEY}', service: 'secrets', attr: 'STRIPE_KEY' }]],
    [
      'postgres://${db.user}@${db.host}:${db.port}/x',
      [
        { raw: '${db.user}', service: 'db', attr: 'user' },
        { raw: '${db.host}', service: 'db', attr: 'host' },
        { raw: '${db.port}', service: 'db', attr: 'port' },
      ],
    ],
    ['${my-kv.endpoints}', [{ raw: '${my-kv.endpoints}', service: 'my-kv', attr: 'endpoints' }]],
    ['--port ${PORT} $HOME', []],
    ['${DB.url} ${db.} ${.url} ${db.url.x}', []],
    ['plain text', []],
  ])('%s', (value, want) => {
    expect(findReferences(value)).toEqual(want);
  });
});

describe('kindOf', () => {
  it.each([
    [{ run: 'x' }, 'app'],
    [{ postgres: { version: '15' } }, 'postgres'],
    [{ etcd: {} }, 'etcd'],
    [{ dir: '.' }, null],
    [{ run: 'x', etcd: {} }, null],
  ] as const)('%j -> %s', (service, want) => {
    expect(kindOf(service)).toBe(want);
  });
});

describe('checkReferences', () => {
  const site = (service: string, kind: ReferenceSite['kind'], value: string): ReferenceSite => ({
    service,
    kind,
    values: [{ path: ['services', service, 'env', 'X'], value }],
  });

  it('turns valid references into edges and secrets into nothing', () => {
    const sites = [site('api', 'app', '${db.url} ${kv.endpoints} ${secrets.K}'), site('db', 'postgres', ''), site('kv', 'etcd', '')];
    expect(checkReferences(sites, new Set(['K']))).toEqual({
      findings: [],
      edges: [
        { from: 'api', to: 'db', path: ['services', 'api', 'env', 'X'] },
        { from: 'api', to: 'kv', path: ['services', 'api', 'env', 'X'] },
      ],
    });
  });

  it('says which attributes a kind has', () => {
    const { findings } = checkReferences([site('api', 'app', '${kv.url}'), site('kv', 'etcd', '')], new Set());
    expect(findings.map((f) => f.message)).toEqual([`\${kv.url}: etcd service "kv" has no attribute "url"; it has: ${KIND_ATTRIBUTES.etcd.join(', ')}`]);
  });

  it('does not second-guess attributes of a service whose kind is unknown', () => {
    const { findings, edges } = checkReferences([site('api', 'app', '${odd.whatever}'), site('odd', null, '')], new Set());
    expect([findings, edges.map((e) => e.to)]).toEqual([[], ['odd']]);
  });
});
