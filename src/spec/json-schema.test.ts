import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { stackJsonSchema } from './index.js';

type Schema = Record<string, unknown>;

/**
 * A small JSON Schema checker for the keywords the generated schema uses:
 * type, properties, required, additionalProperties, propertyNames, items,
 * enum, anyOf, pattern, minimum, maximum, minLength. Returns error paths.
 */
function check(schema: Schema, value: unknown, path = '$'): string[] {
  const errs: string[] = [];
  if (Array.isArray(schema.anyOf)) {
    const ok = (schema.anyOf as Schema[]).some((s) => check(s, value, path).length === 0);
    return ok ? [] : [`${path}: matches no anyOf branch`];
  }
  const types = schema.type === undefined ? [] : ([] as string[]).concat(schema.type as string | string[]);
  if (types.length && !types.some((t) => isType(t, value))) return [`${path}: not ${types.join('|')}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${path}: not in enum`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: pattern`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errs.push(`${path}: minLength`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errs.push(`${path}: minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errs.push(`${path}: maximum`);
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errs.push(...check(schema.items as Schema, v, `${path}[${i}]`)));
  if (isType('object', value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errs.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (schema.propertyNames) errs.push(...check(schema.propertyNames as Schema, k, `${path}.${k}(name)`));
      if (props[k]) errs.push(...check(props[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}.${k}: additional property`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...check(schema.additionalProperties as Schema, v, `${path}.${k}`));
    }
  }
  return errs;
}

function isType(t: string, v: unknown): boolean {
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  if (t === 'array') return Array.isArray(v);
  if (t === 'integer') return Number.isInteger(v);
  if (t === 'null') return v === null;
  return typeof v === t;
}

const GOOD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'spec', 'good');
/** Set (or delete, for undefined) the value at a path of parsed YAML. */
function setPath(root: unknown, path: readonly (string | number)[], value: unknown): void {
  const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root) as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

const read = (f: string): unknown => parse(readFileSync(join(GOOD, f), 'utf8'));

describe('stackJsonSchema', () => {
  const schema = stackJsonSchema();

  it('is a closed draft 2020-12 object schema requiring name and services', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      required: ['name', 'services'],
      additionalProperties: false,
    });
    expect(Object.keys(schema.properties as object)).toEqual(['name', 'services', 'routes', 'secrets', 'environments', 'smoke', 'pipeline']);
  });

  it.each(['shop.yaml', 'minimal.yaml'])('accepts the example %s', (file) => {
    expect(check(schema, read(file))).toEqual([]);
  });

  it.each([
    ['a bad strategy', ['services', 'api', 'deploy', 'strategy'], 'fast', 'matches no anyOf branch'],
    ['an unknown service key', ['services', 'api', 'replica'], 2, 'matches no anyOf branch'],
    ['an unknown top-level key', ['version'], 2, '$.version: additional property'],
    ['a missing name', ['name'], undefined, '$.name: required'],
    ['a route without to', ['routes', 0, 'to'], undefined, '$.routes[0].to: required'],
    ['a bad duration', ['services', 'api', 'health', 'interval'], 'soon', 'matches no anyOf branch'],
  ] as const)('rejects %s', (_what, path, value, want) => {
    const stack = read('shop.yaml');
    setPath(stack, path, value);
    expect(check(schema, stack).join('\n')).toContain(want);
  });
});
