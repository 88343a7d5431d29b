import { describe, expect, it } from 'vitest';
import { dependencies, findCycles, topologicalOrder, type Edge } from './graph.js';

const edge = (from: string, to: string): Edge => ({ from, to, path: ['services', from, 'uses', 0] });

describe('dependencies', () => {
  it('sorts, deduplicates, and drops self and unknown targets', () => {
    const deps = dependencies(['a', 'b', 'c'], [edge('a', 'c'), edge('a', 'b'), edge('a', 'c'), edge('b', 'b'), edge('b', 'ghost')]);
    expect([...deps]).toEqual([
      ['a', ['b', 'c']],
      ['b', []],
      ['c', []],
    ]);
  });
});

describe('topologicalOrder', () => {
  it.each([
    [{ c: [], b: [], a: [] }, ['a', 'b', 'c']],
    [{ api: ['db'], db: [], worker: ['api', 'db'] }, ['db', 'api', 'worker']],
    [{ z: [], y: ['z'], a: ['y'], b: [] }, ['b', 'z', 'y', 'a']],
  ])('%j', (graph, want) => {
    expect(topologicalOrder(new Map(Object.entries(graph)))).toEqual(want);
  });

  it('refuses a cycle instead of dropping services', () => {
    expect(() => topologicalOrder(new Map([['a', ['b']], ['b', ['a']]]))).toThrow('cycle among a, b');
  });
});

describe('findCycles', () => {
  it.each([
    [[], []],
    [[edge('api', 'db')], []],
    [[edge('db', 'api'), edge('api', 'db')], ['dependency cycle: api -> db -> api']],
    [[edge('c', 'a'), edge('a', 'b'), edge('b', 'c')], ['dependency cycle: a -> b -> c -> a']],
    [
      [edge('a', 'b'), edge('b', 'a'), edge('x', 'y'), edge('y', 'x')],
      ['dependency cycle: a -> b -> a', 'dependency cycle: x -> y -> x'],
    ],
  ])('%j', (edges, want) => {
    const names = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
    const found = findCycles(dependencies(names, edges), edges);
    expect(found.map((f) => f.message.split(';')[0])).toEqual(want);
  });

  it('points at the declaration of the edge leaving the first service', () => {
    const edges = [edge('b', 'a'), { from: 'a', to: 'b', path: ['services', 'a', 'env', 'B_URL'] }];
    expect(findCycles(dependencies(['a', 'b'], edges), edges)[0].path).toEqual(['services', 'a', 'env', 'B_URL']);
  });
});
