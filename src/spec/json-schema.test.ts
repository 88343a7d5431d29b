import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { stackJsonSchema } from './index.js';

/** A real draft 2020-12 validator (ajv) compiles the schema; its errors as `<instancePath> <message>`. */
function validator(schema: Record<string, unknown>): (value: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`));
}

const GOOD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'spec', 'good');
/** Set (or delete, for undefined) the value at a path of parsed YAML. */
function setPath(root: unknown, path: readonly (string | number)[], value: unknown): void {
  const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root) as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete parent[last];
  else parent[last] = value;
}

const BAD = join(GOOD, '..', 'bad');
const read = (f: string): unknown => parse(readFileSync(join(GOOD, f), 'utf8'));
const readBad = (f: string): unknown => parse(readFileSync(join(BAD, f), 'utf8'));

describe('stackJsonSchema', () => {
  const schema = stackJsonSchema();
  const check = validator(schema);

  it('is a closed draft 2020-12 object schema requiring name and services', () => {
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      required: ['name', 'services'],
      additionalProperties: false,
    });
    expect(Object.keys(schema.properties as object)).toEqual(['name', 'services', 'routes', 'secrets', 'environments', 'smoke', 'pipeline', 'observability', 'runtime']);
  });

  it.each(['shop.yaml', 'minimal.yaml'])('accepts the example %s', (file) => {
    expect(check(read(file))).toEqual([]);
  });

  it('accepts the example stack the README brings up (examples/shop)', () => {
    expect(check(parse(readFileSync(join(GOOD, '..', '..', '..', '..', 'examples', 'shop', 'symphony.yaml'), 'utf8')))).toEqual([]);
  });

  // The malformed files of the loader's tests whose fault is one of structure (the rest,
  // such as a reference to a missing service, only the loader can see), with where ajv finds it.
  it.each([
    ['bad-duration.yaml', '/services/api'],
    ['bad-enum.yaml', '/services/api'],
    ['bad-env-name.yaml', '/services/api'],
    ['negative-replicas.yaml', '/services/api'],
    ['no-kind.yaml', '/services/api'],
    ['two-kinds.yaml', '/services/db'],
    ['unknown-key-deploy.yaml', '/services/api'],
    ['unknown-key-route.yaml', '/routes/0'],
    ['unknown-key-service.yaml', '/services/api'],
    ['unknown-key-top.yaml', '/'],
    ['wrong-type.yaml', '/services/api'],
    ['not-a-mapping.yaml', '/'],
    ['bad-service-name.yaml', '/services'],
    ['secret-two-sources.yaml', '/secrets/STRIPE_KEY'],
  ])('rejects the malformed %s at %s', (file, at) => {
    const errors = check(readBad(file));
    expect(errors.length, `${file} was accepted`).toBeGreaterThan(0);
    expect(errors.some((e) => e === at || e.startsWith(`${at} `) || e.startsWith(`${at}/`)), errors.join('\n')).toBe(true);
  });

  it.each([
    ['a bad strategy', ['services', 'api', 'deploy', 'strategy'], 'fast', '/services/api'],
    ['an unknown service key', ['services', 'api', 'replica'], 2, '/services/api'],
    ['an unknown top-level key', ['version'], 2, '/ must NOT have additional properties'],
    ['a missing name', ['name'], undefined, "/ must have required property 'name'"],
    ['a route without to', ['routes', 0, 'to'], undefined, "/routes/0 must have required property 'to'"],
    ['a bad duration', ['services', 'api', 'health', 'interval'], 'soon', '/services/api'],
  ] as const)('rejects %s', (_what, path, value, want) => {
    const stack = read('shop.yaml');
    expect(check(stack)).toEqual([]);
    setPath(stack, path, value);
    expect(check(stack).join('\n')).toContain(want);
  });
});
