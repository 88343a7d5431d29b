import { describe, expect, it } from 'vitest';
import { dotted, StackSource } from './source.js';

const TEXT = ['name: shop', 'services:', '  api:', '    run: serve', '    deploy: { strategy: fast }', 'routes:', '  - { listen: 80, to: api }', ''].join('\n');

describe('StackSource.locate', () => {
  const src = new StackSource('/s.yaml', TEXT);
  it.each([
    [['name'], false, { line: 1, column: 7, exact: true }],
    [['services', 'api'], false, { line: 3, column: 3, exact: true }],
    [['services', 'api', 'run'], false, { line: 4, column: 10, exact: true }],
    [['services', 'api', 'run'], true, { line: 4, column: 5, exact: true }],
    [['services', 'api', 'deploy', 'strategy'], false, { line: 5, column: 25, exact: true }],
    [['routes', 0, 'to'], false, { line: 7, column: 23, exact: true }],
    [['routes', 0], false, { line: 7, column: 5, exact: true }],
    [['services', 'api', 'health', 'http'], false, { line: 3, column: 3, exact: false }],
    [['nothing'], false, { line: 1, column: 1, exact: false }],
  ] as const)('%j (key %s)', (path, key, want) => {
    expect(src.locate([...path], key)).toEqual(want);
  });

  it('reads the data and has no syntax issues', () => {
    expect([src.syntaxIssues, src.data]).toEqual([
      [],
      { name: 'shop', services: { api: { run: 'serve', deploy: { strategy: 'fast' } } }, routes: [{ listen: 80, to: 'api' }] },
    ]);
  });

  it('turns YAML errors into issues with line and column', () => {
    const bad = new StackSource('/b.yaml', 'name: x\nservices: [a, b\n');
    expect(bad.data).toBeUndefined();
    expect(bad.syntaxIssues.map((i) => [i.file, i.line, i.path, i.message.startsWith('YAML syntax: ')])).toEqual([['/b.yaml', 3, '', true]]);
  });
});

describe('dotted', () => {
  it.each([
    [['services', 'api', 'deploy', 'strategy'], 'services.api.deploy.strategy'],
    [['routes', 0, 'to'], 'routes[0].to'],
    [['services', 'api', 'uses', 1], 'services.api.uses[1]'],
    [[], ''],
  ])('%j', (path, want) => {
    expect(dotted(path)).toBe(want);
  });
});
