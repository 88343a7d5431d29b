import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, stableJson } from '../plan/hash.js';
import type { Plan } from '../plan/types.js';
import { loadStack } from '../spec/index.js';
import { RehearsalRequiredError } from './errors.js';

/** One rehearsal as the target remembers it (`<state>/rehearsals.json`). */
export interface RehearsalRecord {
  id: string;
  env: string;
  /** `planDigest` of the target's plan that was rehearsed. */
  digest: string;
  passed: boolean;
  at: string;
  /** What failed, when it did (stage and message). */
  error: string | null;
  /** Steps of the rehearsed plan, by name, for the record. */
  steps: string[];
}

const FILE = 'rehearsals.json';
const KEEP = 50;

/**
 * What makes two plans "the same change": environment, kind, steps,
 * new releases (immutable configs, so ids and contents), routes and
 * replicas. The state serial is left out, so a fresh plan of the same stack
 * against the same state digests equally.
 */
export function planDigest(plan: Plan): string {
  const { env, kind, steps, releases, routes, replicas } = plan;
  return sha256(stableJson({ env, kind, steps, releases, routes, replicas })).slice(0, 16);
}

/** Rehearsals recorded under a state dir, newest last. */
export function readRehearsals(stateDir: string): RehearsalRecord[] {
  const file = join(stateDir, FILE);
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, 'utf8')) as RehearsalRecord[];
}

/** Append a rehearsal to the target's record, atomically (temp file, fsync, rename). Keeps the last 50. */
export function recordRehearsal(stateDir: string, rec: RehearsalRecord): void {
  const all = [...readRehearsals(stateDir), rec].slice(-KEEP);
  const file = join(stateDir, FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(all, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(stateDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The passed rehearsal of exactly this plan, if any. */
export function passedRehearsal(stateDir: string, plan: Plan): RehearsalRecord | null {
  const digest = planDigest(plan);
  return readRehearsals(stateDir).filter((r) => r.passed && r.env === plan.env && r.digest === digest).pop() ?? null;
}

/**
 * For `apply`: when the plan's environment says `require_rehearsal: true`,
 * refuse a plan that has no passed rehearsal of the same digest.
 */
export function assertRehearsed(stateDir: string, plan: Plan): void {
  if (plan.kind !== 'apply' || plan.steps.length === 0) return;
  const stack = loadStack(plan.stackFile, { env: plan.env === 'default' ? undefined : plan.env });
  if (!stack.requireRehearsal) return;
  if (passedRehearsal(stateDir, plan)) return;
  const last = readRehearsals(stateDir).filter((r) => r.env === plan.env).pop() ?? null;
  throw new RehearsalRequiredError(plan.env, planDigest(plan), last);
}
