import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../errors.js';
import { parseStackText } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'symphony-spec-runtime-'));
mkdirSync(join(dir, 'api'));
writeFileSync(join(dir, 'api', 'Dockerfile'), 'FROM symphony/node:20\n');
mkdirSync(join(dir, 'empty'));

const load = (text: string) => parseStackText(text, join(dir, 'symphony.yaml'));
const issues = (text: string): string[] => {
  try {
    load(text);
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => `${i.line}: ${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('accepted');
};

describe('runtime and image keys', () => {
  it('an app with an image runs on the container runtime; the stack default reaches apps only', () => {
    const s = load('name: s\nruntime: container\nservices:\n  api:\n    image: { build: ./api }\n    port: 3000\n  web:\n    run: node web.js\n    runtime: process\n  db:\n    postgres: { version: "15" }\n    volume: db\n');
    const byName = Object.fromEntries(s.services.map((x) => [x.name, x.spec as Record<string, unknown>]));
    expect(byName.api).toMatchObject({ runtime: 'container', image: { build: './api' }, port: 3000 });
    expect(byName.web.runtime).toBe('process');
    expect(byName.db.runtime).toBeUndefined();
    const plain = load('name: s\nservices:\n  api:\n    image: "shop/api:1.4"\n  web:\n    run: node web.js\n');
    expect(plain.services.find((x) => x.name === 'api')!.spec).toMatchObject({ runtime: 'container', image: 'shop/api:1.4' });
    // A process app's spec is left as written, so its release id does not change.
    expect(plain.services.find((x) => x.name === 'web')!.spec).toEqual({ run: 'node web.js' });
  });

  it('refuses what cannot run, each with its line and path', () => {
    expect(issues('name: s\nservices:\n  db:\n    postgres: { version: "15" }\n    volume: db\n    runtime: container\n')).toEqual([
      '6: services.db.runtime: is invalid: postgres, etcd and cluster services run on the process runtime only (Symphony has no container image with their binaries): remove runtime: from this service; containers reach it through its references (${db.url}) (got "container")',
    ]);
    expect(issues('name: s\nruntime: container\nservices:\n  web:\n    run: node web.js\n')).toEqual([
      "4: services.web: the stack's runtime: container needs an image for web: give it image: { build: ./dir } or image: \"name:tag\", or runtime: process",
    ]);
    expect(issues('name: s\nservices:\n  api:\n    image: { build: ./empty }\n')).toEqual([`4: services.api.image.build: no Dockerfile in ${join(dir, 'empty')} (start it with FROM symphony/node:${process.versions.node.split('.')[0]} to need no registry)`]);
    expect(issues('name: s\nservices:\n  api:\n    image: { build: ./nope }\n')).toEqual([`4: services.api.image.build: image build directory ${join(dir, 'nope')} does not exist`]);
    expect(issues('name: s\nservices:\n  api:\n    run: node a.js\n    port: 3000\n')).toEqual(['5: services.api.port: is invalid: port: is the port inside a container: it needs image:']);
    expect(issues('name: s\nservices:\n  api:\n    image: 7\n')).toEqual(['4: services.api.image: must be "name:tag" or { build: ./dir }']);
  });
});
