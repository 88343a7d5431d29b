import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { kindCtx } from '../apply/instances.js';
import { ensureAgent, type AgentClient } from '../cli/agent-client.js';
import { follow } from '../cli/progress.js';
import { describeError, SymphonyError } from '../errors.js';
import { registerBuiltinKinds } from '../kinds/builtin.js';
import { getKind } from '../kinds/registry.js';
import type { Attributes } from '../plan/resolve.js';
import type { Plan, ReleaseConfig } from '../plan/types.js';
import { SecretVault } from '../secrets/vault.js';
import { loadStack } from '../spec/index.js';
import { StateStore } from '../state/store.js';
import type { OperationRecord } from '../state/types.js';
import { allocateCopyPorts, createCopyState, readTarget } from './copy.js';
import { RehearsalError } from './errors.js';
import { planDigest, recordRehearsal } from './record.js';
import { readSmoke, runSmoke, smokeProblems, type SmokeResult } from './smoke.js';
import { copyProcesses, tearDown, type Leftovers } from './teardown.js';
import { restorePlan, translatePlan, type CopyMap } from './translate.js';
import { copyVolume, type VolumeCopy } from './volumes.js';
import { sharedRootOf } from '../volumes/placement.js';

export interface RehearseOptions {
  /** State dir of the target environment. */
  stateDir: string;
  /** The target's plan: what `apply` would run there. */
  plan: Plan;
  /** Secret values read by the CLI from their sources, handed to the copy's agent as `apply` does. */
  secrets: Record<string, string>;
  /** Leave a failed copy running for inspection (default false). */
  keepOnFailure?: boolean;
  /** No step-by-step progress on stderr. */
  quiet?: boolean;
  progress?: (line: string) => void;
}

export interface RehearsalReport {
  id: string;
  env: string;
  digest: string;
  passed: boolean;
  copyDir: string;
  /** Target port -> copy port. */
  ports: Record<number, number>;
  stages: Array<{ name: string; ok: boolean; ms: number }>;
  volumes: VolumeCopy[];
  operations: { restore: string | null; change: string | null };
  smoke: SmokeResult[];
  error: { stage: string; message: string; hint?: string } | null;
  kept: boolean;
  /** Agent, router and instances of the copy as they were before teardown. */
  processes: Array<{ pid: number; what: string }>;
  leftovers: Leftovers | null;
}

/** Daemons of the copy must not inherit the target's failpoints or the router's fixed metrics port. */
async function startCopyAgent(copyDir: string): Promise<AgentClient> {
  const saved = { fp: process.env.SYMPHONY_FAILPOINTS, metrics: process.env.SYMPHONY_ROUTER_METRICS_PORT };
  delete process.env.SYMPHONY_FAILPOINTS;
  delete process.env.SYMPHONY_ROUTER_METRICS_PORT;
  try {
    return await ensureAgent(copyDir);
  } finally {
    if (saved.fp !== undefined) process.env.SYMPHONY_FAILPOINTS = saved.fp;
    if (saved.metrics !== undefined) process.env.SYMPHONY_ROUTER_METRICS_PORT = saved.metrics;
  }
}

async function runOperation(client: AgentClient, copyDir: string, plan: Plan, secrets: Record<string, string>, quiet: boolean): Promise<OperationRecord> {
  const { operation } = await client.call<{ operation: OperationRecord }>('POST', '/v1/operations', { plan, secrets, requester: 'symphony rehearse' });
  return (await follow(copyDir, client, operation.id, quiet)).operation;
}

/** Attributes (`${svc.url}`…) of the copy's services, as the planner derives them. */
function copyAttributes(plan: Plan, configs: Map<string, ReleaseConfig>): Attributes {
  const attrs: Attributes = {};
  for (const [service, cfg] of configs) {
    const own = getKind(cfg.kind).attributes(kindCtx(plan.env, cfg));
    const route = plan.routes.find((r) => r.service === service);
    attrs[service] = route ? { host: '127.0.0.1', port: String(route.listen), url: `http://127.0.0.1:${route.listen}`, ...own } : own;
  }
  return attrs;
}

/**
 * Rehearse a plan on a throwaway copy of its target: copy state and
 * volumes (consistent snapshots) under `<state>/rehearsals/<id>` with other
 * ports, bring the copy to the target's current releases, apply the same
 * plan there, run the stack's smoke checks, record the outcome in the
 * target, and tear the copy down even when a stage fails. The target is only read.
 */
export async function rehearse(o: RehearseOptions): Promise<RehearsalReport> {
  registerBuiltinKinds();
  const { plan, stateDir } = o;
  const say = o.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  if (plan.kind !== 'apply') throw new SymphonyError(`a ${plan.kind} plan cannot be rehearsed`, 'rehearse an apply plan: symphony plan -o plan.json');
  if (plan.steps.length === 0) throw new SymphonyError(`the plan for ${plan.env} has no steps: nothing to rehearse`, 'change the stack file, then run symphony rehearse');
  const stack = loadStack(plan.stackFile, { env: plan.env === 'default' ? undefined : plan.env });
  const checks = readSmoke(plan.stackFile);
  const problems = smokeProblems(checks, Object.fromEntries(stack.services.map((s) => [s.name, s.kind])));
  if (problems.length) throw new SymphonyError(`${plan.stackFile}: ${problems.join('; ')}`, 'fix the smoke: section, then run symphony rehearse again');
  const target = readTarget(stateDir, plan);
  if (target.serial !== plan.serial) throw new SymphonyError(`the plan was made at state serial ${plan.serial}, the target is at ${target.serial}`, 'make a new plan: symphony plan -o <file>');

  const id = randomBytes(4).toString('hex');
  const copyDir = join(stateDir, 'rehearsals', id);
  const map: CopyMap = { fromStateDir: stateDir, toStateDir: copyDir, ports: await allocateCopyPorts(target.ports), sharedRoots: { from: sharedRootOf(stateDir), to: sharedRootOf(copyDir) } };
  const report: RehearsalReport = {
    id, env: plan.env, digest: planDigest(plan), passed: false, copyDir, ports: map.ports, stages: [], volumes: [],
    operations: { restore: null, change: null }, smoke: [], error: null, kept: false, processes: [], leftovers: null,
  };
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    say(`rehearsal ${id}: ${name}`);
    try {
      const out = await fn();
      report.stages.push({ name, ok: true, ms: Date.now() - t0 });
      return out;
    } catch (err) {
      report.stages.push({ name, ok: false, ms: Date.now() - t0 });
      throw err instanceof RehearsalError ? err : new RehearsalError(id, name, describeError(err).error, describeError(err).hint);
    }
  };
  let client: AgentClient | null = null;
  try {
    const restore = restorePlan(plan, target.current, map, 0);
    await stage('copy state and volumes', async () => {
      createCopyState(map, plan.env);
      for (const s of target.current) {
        const v = await copyVolume({ rehearsal: id, env: plan.env, service: s, copy: restore.plan.releases[restore.ids[s.release]], secret: target.secret, scratch: join(copyDir, 'scratch') });
        if (v) report.volumes.push(v);
      }
    });
    client = await stage('start the copy agent', () => startCopyAgent(copyDir));
    const serialOf = (): number => {
      const s = new StateStore(copyDir);
      try {
        return s.serial();
      } finally {
        s.close();
      }
    };
    if (restore.plan.steps.length > 0) {
      await stage('restore current releases', async () => {
        const op = await runOperation(client!, copyDir, { ...restore.plan, serial: serialOf() }, o.secrets, o.quiet === true);
        report.operations.restore = op.id;
        if (op.status !== 'succeeded') throw new RehearsalError(id, 'restore current releases', `operation ${op.id} ${op.status}: ${op.error ?? ''}`);
      });
    }
    const change = translatePlan(plan, restore.ids, map, 0);
    await stage('apply the plan', async () => {
      const op = await runOperation(client!, copyDir, { ...change, serial: serialOf() }, o.secrets, o.quiet === true);
      report.operations.change = op.id;
      if (op.status !== 'succeeded') {
        throw new RehearsalError(id, 'apply the plan', `operation ${op.id} ${op.status}: ${op.error ?? ''}`, 'fix the change; symphony rehearse --keep-on-failure leaves the copy running to look at');
      }
    });
    await stage('smoke checks', async () => {
      const configs = new Map<string, ReleaseConfig>([...Object.values(restore.plan.releases), ...Object.values(change.releases)].map((c) => [c.service, c]));
      const store = new StateStore(copyDir);
      const vault = new SecretVault(store);
      try {
        report.smoke = await runSmoke(checks, { attrs: copyAttributes(change, configs), secret: (t) => vault.substitute(plan.env, t), secrets: vault.values(plan.env), cwd: stack.dir });
      } finally {
        store.close();
      }
      const failed = report.smoke.filter((r) => !r.passed);
      if (failed.length) throw new RehearsalError(id, 'smoke checks', failed.map((f) => `${f.name}: ${f.detail}`).join('; '), 'fix the change or the check, then rehearse again');
    });
    report.passed = true;
  } catch (err) {
    const e = describeError(err);
    report.error = { stage: err instanceof RehearsalError ? err.stage : 'setup', message: e.error, hint: e.hint };
  } finally {
    await client?.close();
    report.processes = await copyProcesses(copyDir).catch(() => []);
    if (!report.passed && o.keepOnFailure) {
      report.kept = true;
      say(`rehearsal ${id}: kept at ${copyDir}`);
    } else {
      say(`rehearsal ${id}: tear down`);
      report.leftovers = await tearDown(copyDir, Object.values(map.ports), [map.sharedRoots!.to]);
    }
    recordRehearsal(stateDir, {
      id, env: plan.env, digest: report.digest, passed: report.passed, at: new Date().toISOString(),
      error: report.error ? `${report.error.stage}: ${report.error.message}` : null, steps: plan.steps.map((s) => s.name),
    });
  }
  return report;
}
