import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvStatus } from '../../src/agent/status.js';
import { RouterClient } from '../../src/router/client.js';
import type { RouterStats } from '../../src/router/types.js';
import type { OperationRecord, StepRecord } from '../../src/state/types.js';
import type { RunResult } from '../../src/util/exec.js';
import { symphony } from '../../test/helpers/cli.js';

/** The bench's one app service and its route, as Symphony runs it. */
export const SERVICE = 'web';
export const APP_DIR = 'web';

export interface StackOptions {
  routePort: number;
  replicas: number;
  strategy: 'blue-green' | 'canary';
  /** Canary traffic percentages and the pause at each (only with strategy canary; default 2s, so the split is held under load). */
  steps?: number[];
  pause?: string;
  /** `health.interval` (e.g. 100ms); omitted: Symphony's default. */
  healthInterval?: string;
}

/** Write symphony.yaml for the bench app into `dir`. */
export function writeStack(dir: string, o: StackOptions): string {
  const deploy = o.strategy === 'canary' ? `{ strategy: canary, steps: [${(o.steps ?? [10, 50, 100]).join(', ')}], pause: ${o.pause ?? '2s'} }` : '{ strategy: blue-green, drain: 10s }';
  const file = join(dir, 'symphony.yaml');
  writeFileSync(
    file,
    `name: dulbench
services:
  ${SERVICE}:
    run: node server.mjs
    dir: ./${APP_DIR}
    replicas: ${o.replicas}
    health: { http: /healthz${o.healthInterval ? `, interval: ${o.healthInterval}` : ''} }
    deploy: ${deploy}
routes:
  - { listen: ${o.routePort}, to: ${SERVICE} }
`,
  );
  return file;
}

/** A step of an operation with epoch-ms times, for placing failed requests against it. */
export interface TimedStep {
  name: string;
  status: string;
  startedAt: number | null;
  endedAt: number | null;
}

/** One Symphony command the bench ran (apply or rollback) and what the agent journaled for it. */
export interface Action {
  label: string;
  startedAt: number;
  endedAt: number;
  operation: string | null;
  steps: TimedStep[];
  /** Set when the release itself failed (the command exited non-zero); traffic is still counted. */
  error?: string;
}

export class SymphonyCommandError extends Error {}

function timed(s: StepRecord): TimedStep {
  return { name: s.name, status: s.status, startedAt: s.startedAt ? Date.parse(s.startedAt) : null, endedAt: s.endedAt ? Date.parse(s.endedAt) : null };
}

/**
 * What to read when a Symphony phase failed requests, taken before cleanup
 * removes it: the router log's last lines, and per instance log its
 * `listening` line and any error line (EADDRINUSE, crashes).
 */
export function evidence(stateDir: string, lines = 40): string {
  const router = join(stateDir, 'router', 'router.out');
  const out = [`--- ${router} (last ${lines} lines)`, existsSync(router) ? readFileSync(router, 'utf8').split('\n').slice(-lines).join('\n') : '(missing)'];
  const logs = join(stateDir, 'logs');
  for (const f of existsSync(logs) ? readdirSync(logs).sort() : []) {
    const interesting = readFileSync(join(logs, f), 'utf8')
      .split('\n')
      .filter((l) => /listening|error|EADDRINUSE|exit/i.test(l))
      .slice(0, 6);
    out.push(`--- ${f}`, ...interesting);
  }
  return out.join('\n');
}

/** The last lines of the log of every instance an error names, read before cleanup removes them. */
function instanceLogs(text: string, stateDir: string): string {
  const ids = new Set([...text.matchAll(/instance ([a-z][a-z0-9-]*-[0-9a-f]{8}-\d+)/g)].map((m) => m[1]));
  return [...ids]
    .map((id) => join(stateDir, 'logs', `${id}.log`))
    .filter((f) => existsSync(f))
    .map((f) => `\n--- ${f} (last lines)\n${readFileSync(f, 'utf8').split('\n').slice(-12).join('\n')}`)
    .join('');
}

function mustSucceed(what: string, r: RunResult, dir?: string): RunResult {
  if (r.code === 0) return r;
  const logs = dir ? instanceLogs(r.stdout + r.stderr, join(dir, '.symphony')) : '';
  const errors = [...r.stdout.matchAll(/"error": (".*")/g)].map((m) => m[1]).filter((e) => e !== 'null');
  throw new SymphonyCommandError(`${what} exited with ${r.code ?? r.signal}: ${errors.join('; ') || r.stderr.slice(-1500)}${logs}`);
}

/**
 * Run a Symphony verb with `--json` (apply --yes, rollback …) in the stack dir
 * and return the journaled steps with their times. Throws when it fails.
 */
export async function runVerb(dir: string, label: string, args: string[]): Promise<Action> {
  const startedAt = Date.now();
  const r = mustSucceed(`symphony ${args.join(' ')}`, await symphony([...args, '--json'], { cwd: dir }), dir);
  const endedAt = Date.now();
  let parsed: { operation?: OperationRecord; steps?: StepRecord[] } = {};
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    /* a verb without JSON output: keep the wall time only */
  }
  if (parsed.operation && parsed.operation.status !== 'succeeded') {
    throw new SymphonyCommandError(`symphony ${args.join(' ')}: operation ${parsed.operation.id} ended ${parsed.operation.status}: ${parsed.operation.error ?? ''}`);
  }
  return { label, startedAt, endedAt, operation: parsed.operation?.id ?? null, steps: (parsed.steps ?? []).map(timed) };
}

/** Status of the stack in `dir`. */
export async function status(dir: string): Promise<EnvStatus> {
  return JSON.parse(mustSucceed('symphony status', await symphony(['status', '--json'], { cwd: dir })).stdout) as EnvStatus;
}

/** The live release of the bench service, checking that all its replicas are alive on it (logs of the others in the error). */
export async function liveRelease(dir: string, replicas: number): Promise<string> {
  const s = await status(dir);
  const svc = s.services.find((x) => x.name === SERVICE);
  if (!svc?.release) throw new SymphonyCommandError(`symphony status shows no live release of ${SERVICE}`);
  const mine = svc.instances.filter((i) => i.release === svc.release);
  const alive = mine.filter((i) => i.alive).length;
  if (alive !== replicas) {
    const detail = mine.map((i) => `${i.id} pid ${i.pid} port ${i.port} status ${i.status} alive ${i.alive} restarts ${i.restarts} last exit ${i.lastExit}`).join('; ');
    throw new SymphonyCommandError(`${SERVICE} release ${svc.release} has ${alive} live instances, expected ${replicas}: ${detail}${instanceLogs(mine.map((i) => `instance ${i.id}`).join(' '), join(dir, '.symphony'))}`);
  }
  return svc.release;
}

/** The router's own counters (requests and errors per release), or null when it does not answer. */
export async function routerStats(stateDir: string): Promise<RouterStats | null> {
  return new RouterClient(join(stateDir, 'router', 'router.sock')).stats().catch(() => null);
}

/** Verbs the built CLI offers (to find out whether `rollback` has landed). */
export async function verbs(dir: string): Promise<Set<string>> {
  const r = await symphony(['--help'], { cwd: dir });
  return new Set([...r.stdout.matchAll(/^ {2}([a-z-]+)[ [<]/gm)].map((m) => m[1]));
}
