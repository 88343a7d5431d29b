import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stackJsonSchema } from '../src/spec/index.js';
import { ROOT, symphony } from './helpers/cli.js';

// What `symphony schema` prints is the schema an editor gets: a real validator compiles it,
// the example stack passes it and a stack with a misspelt key does not.
describe('symphony schema', () => {
  it('prints the stack JSON Schema, which ajv compiles and which checks the example stack', async () => {
    const r = await symphony(['schema'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(printed).toEqual(stackJsonSchema());
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(printed);
    const shop = parse(readFileSync(join(ROOT, 'examples/shop/symphony.yaml'), 'utf8')) as { services: Record<string, Record<string, unknown>> };
    expect(validate(shop), JSON.stringify(validate.errors)).toBe(true);
    const api = Object.values(shop.services).find((s) => 'run' in s)!;
    api.replica = 2;
    expect(validate(shop)).toBe(false);
  });
});
