import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckedService } from './checks.js';
import type { Finding } from './issues.js';
import type { AppServiceSpec } from './schema.js';

export type RuntimeKind = 'process' | 'container';

/**
 * The runtime an app runs on: its own `runtime:`, else the stack's (for apps
 * only: postgres, etcd and clusters always run as processes), else container
 * when it has an image, else process. Pure.
 */
export function appRuntime(spec: Pick<AppServiceSpec, 'runtime' | 'image'>, stackRuntime: RuntimeKind | undefined): RuntimeKind {
  return spec.runtime ?? stackRuntime ?? (spec.image !== undefined ? 'container' : 'process');
}

/**
 * Sets `runtime: container` on each app that runs in containers (so the release records it) and
 * reports what cannot run: the stack's `runtime: container` on an app without
 * an image, an image build directory without its Dockerfile.
 */
export function checkRuntimes(services: readonly CheckedService[], stackRuntime: RuntimeKind | undefined, dir: string): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    if (s.kind !== 'app') continue;
    const spec = s.spec as AppServiceSpec;
    // Neither survived validation: the schema has already said why.
    if (spec.run === undefined && spec.image === undefined) continue;
    const runtime = appRuntime(spec, stackRuntime);
    if (runtime === 'container' && spec.image === undefined) {
      out.push({ path: ['services', s.name], key: true, message: `the stack's runtime: container needs an image for ${s.name}: give it image: { build: ./dir } or image: "name:tag", or runtime: process` });
      continue;
    }
    if (runtime === 'process' && spec.run === undefined) {
      out.push({ path: ['services', s.name], key: true, message: `the stack's runtime: process needs run: for ${s.name}; an image runs on runtime: container` });
      continue;
    }
    if (runtime !== 'container') continue;
    // Recorded only for containers: a process app's release (and id) stays what it was before runtimes existed.
    (spec as { runtime?: RuntimeKind }).runtime = runtime;
    if (typeof spec.image !== 'object') continue;
    const context = resolve(dir, spec.image.build);
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      out.push({ path: ['services', s.name, 'image', 'build'], message: `image build directory ${context} does not exist` });
    } else if (!existsSync(join(context, spec.image.dockerfile ?? 'Dockerfile'))) {
      out.push({ path: ['services', s.name, 'image', 'build'], message: `no ${spec.image.dockerfile ?? 'Dockerfile'} in ${context} (start it with FROM symphony/node:${process.versions.node.split('.')[0]} to need no registry)` });
    }
  }
  return out;
}
