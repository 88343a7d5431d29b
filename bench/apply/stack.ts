import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The bench's stack: `count` app services of one replica each, every one a
 * real Node process (test/fixtures/stack-app/server.mjs). The first services
 * (one per route port) get a router listener so that others can reference their URL; every
 * later service whose index is a multiple of 3 references one of them
 * (`UPSTREAM_URL: ${sNN.url}` and `uses`), so the plan has dependency order
 * to respect.
 */
export interface BenchStackShape {
  count: number;
  /** Router listen ports; service i < routePorts.length is routed on routePorts[i]. */
  routePorts: number[];
}

export const serviceName = (i: number): string => `s${String(i + 1).padStart(2, '0')}`;

/** The stack file text for a shape. */
export function stackYaml(shape: BenchStackShape): string {
  const lines = ['name: bench', 'services:'];
  for (let i = 0; i < shape.count; i++) {
    const name = serviceName(i);
    lines.push(`  ${name}:`, '    run: node server.mjs', `    dir: ./${name}`);
    if (i >= shape.routePorts.length && i % 3 === 0) {
      const upstream = serviceName(i % shape.routePorts.length);
      lines.push(`    uses: [${upstream}]`, `    env: { UPSTREAM_URL: "\${${upstream}.url}" }`);
    }
  }
  lines.push('routes:');
  shape.routePorts.forEach((port, i) => lines.push(`  - { listen: ${port}, to: ${serviceName(i)} }`));
  return lines.join('\n') + '\n';
}

/** Services that reference another one, for the report. */
export function referencingCount(shape: BenchStackShape): number {
  let n = 0;
  for (let i = shape.routePorts.length; i < shape.count; i++) if (i % 3 === 0) n++;
  return n;
}

/** An app service's entry file: sets its version, then runs the shared fixture app. */
function appEntry(app: string, version: string): string {
  return `process.env.APP_VERSION ??= ${JSON.stringify(version)};\nawait import(${JSON.stringify(app)});\n`;
}

/** Write the stack into a fresh temp dir; returns the dir (the stack file is dir/symphony.yaml). */
export function writeStack(shape: BenchStackShape, app: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-bench-apply-'));
  writeFileSync(join(dir, 'symphony.yaml'), stackYaml(shape));
  for (let i = 0; i < shape.count; i++) {
    const file = join(dir, serviceName(i), 'server.mjs');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, appEntry(app, 'v1'));
  }
  return dir;
}

/** Change every service's files (a new version), so that the next plan replaces all of them. */
export function bumpVersions(dir: string, shape: BenchStackShape, version: string): void {
  for (let i = 0; i < shape.count; i++) {
    const file = join(dir, serviceName(i), 'server.mjs');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\?\?= "[^"]*"/, `??= ${JSON.stringify(version)}`));
  }
}
