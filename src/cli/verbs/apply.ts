import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SymphonyError, StalePlanError } from '../../errors.js';
import { renderPlan } from '../../plan/render.js';
import type { Plan } from '../../plan/types.js';
import { SecretVault } from '../../secrets/vault.js';
import { loadStack, type LoadedStack } from '../../spec/index.js';
import { metricsChange } from '../../observe/settings.js';
import { StateStore } from '../../state/store.js';
import type { OperationRecord } from '../../state/types.js';
import { ensureAgent } from '../agent-client.js';
import { action, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { computePlan, readSecrets } from '../planning.js';
import { assertRehearsed } from '../../rehearse/record.js';
import { follow, followToEnd, submit } from '../progress.js';
import type { EnvStatus } from '../../agent/status.js';
import { renderOutputs } from './status.js';

interface ApplyOptions extends GlobalOptions {
  yes?: boolean;
  target?: string[];
  detach?: boolean;
  pauseAfter?: string;
}

/** A saved plan, with the secrets it was made with read again and checked against its digests. */
function loadSavedPlan(path: string, stateDir: string): { plan: Plan; secrets: Record<string, string>; stack: LoadedStack } {
  const plan = JSON.parse(readFileSync(path, 'utf8')) as Plan;
  if (plan.format !== 1) throw new SymphonyError(`${path} is not a Symphony plan`, 'make one with: symphony plan -o <file>');
  const stack = loadStack(plan.stackFile, { env: plan.env === 'default' ? undefined : plan.env });
  const secrets = readSecrets(stack);
  const store = new StateStore(stateDir);
  try {
    if (plan.serial !== store.serial()) throw new StalePlanError(plan.serial, store.serial());
    const vault = new SecretVault(store);
    for (const cfg of Object.values(plan.releases)) {
      for (const [name, digest] of Object.entries(cfg.secretDigests)) {
        const now = secrets[name] !== undefined ? vault.hmac(secrets[name]) : vault.digest(plan.env, name);
        if (now !== digest) throw new SymphonyError(`secret ${name} changed since the plan was made`, 'make a new plan: symphony plan -o <file>');
      }
    }
  } finally {
    store.close();
  }
  return { plan, secrets, stack };
}

/** How the apply changes where the agent serves /metrics (observability.metrics); null when it does not. */
function metricsChangeOf(stateDir: string, env: string, stack: LoadedStack): { from: string | null; to: string | null } | null {
  const store = new StateStore(stateDir);
  try {
    return metricsChange(store, env, stack.observability?.metrics ?? null);
  } finally {
    store.close();
  }
}

/** The Outputs block after a successful apply: how to reach each service, secret parts masked. */
async function printOutputs(stateDir: string, env: string): Promise<void> {
  const client = await ensureAgent(stateDir);
  try {
    const block = renderOutputs(await client.call<EnvStatus>('GET', `/v1/status?env=${encodeURIComponent(env)}`));
    if (block) process.stdout.write(`\n${block}\n`);
  } finally {
    await client.close();
  }
}

async function confirm(o: ApplyOptions): Promise<boolean> {
  if (o.yes) return true;
  if (!process.stdin.isTTY) throw new SymphonyError('refusing to apply without confirmation on a non-interactive terminal', 'review with symphony plan, then run symphony apply --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Apply these changes? [y/N] ');
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export function registerApply(program: Command): void {
  withCommon(program.command('apply [planfile]').description('make the stack so: run the plan as an operation in the agent'))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-t, --target <service...>', 'limit to these services and what they need')
    .option('-d, --detach', 'return once the operation has started; follow it with symphony attach')
    .option('--pause-after <n>', 'cluster-rolling: stop after n members; continue with symphony resume')
    .action(
      action(async (planFile: string | undefined, o: ApplyOptions) => {
        const stateDir = stateDirOf(o);
        const { plan, secrets, stack } = planFile ? loadSavedPlan(planFile, stateDir) : await computePlan(requireStack(o), o.env, stateDir, o.target);
        if (o.pauseAfter !== undefined) {
          const n = Number(o.pauseAfter);
          if (!Number.isInteger(n) || n < 1) throw new SymphonyError(`--pause-after wants a whole number of members >= 1, not ${o.pauseAfter}`);
          plan.steps = plan.steps.map((s) => (s.verb === 'roll' ? { ...s, pauseAfter: n } : s));
        }
        if (!o.json) process.stderr.write(renderPlan(plan) + '\n');
        const metrics = metricsChangeOf(stateDir, plan.env, stack);
        if (metrics && !o.json) process.stderr.write(`metrics: ${metrics.from ? `http://${metrics.from}/metrics` : 'off'} -> ${metrics.to ? `http://${metrics.to}/metrics` : 'off'}\n`);
        if (plan.steps.length === 0 && !metrics) {
          if (o.json) print(o, '', { plan, operation: null });
          return 0;
        }
        if (plan.steps.length > 0) assertRehearsed(stateDir, plan);
        if (!planFile && !(await confirm(o))) {
          process.stderr.write('nothing applied\n');
          return 1;
        }
        const client = await ensureAgent(stateDir);
        // Before the operation: an address that cannot be opened stops the apply with nothing changed.
        if (metrics) await client.call('POST', '/v1/observe', { env: plan.env, metrics: metrics.to });
        if (plan.steps.length === 0) {
          await client.close();
          if (o.json) print(o, '', { plan, operation: null, metrics: metrics?.to ?? null });
          return 0;
        }
        const opId = await submit(client, { plan, secrets, verb: 'apply' });
        if (!o.json) process.stderr.write(`operation ${opId} started (Ctrl-C detaches; it keeps running: symphony attach ${opId})\n`);
        if (o.detach) return void print(o, opId, { operation: opId });
        const code = await followToEnd(stateDir, client, opId, o);
        if (code === 0 && !o.json) await printOutputs(stateDir, plan.env);
        return code;
      }),
    );
  withCommon(program.command('attach [operation]').description('follow a running operation (the latest one by default)')).action(
    action(async (opId: string | undefined, o: GlobalOptions) => {
      const stateDir = stateDirOf(o);
      const client = await ensureAgent(stateDir);
      const id = opId ?? (await client.call<{ operation: { id: string } | null }>('GET', `/v1/status?env=${encodeURIComponent(o.env ?? 'default')}`)).operation?.id;
      if (!id) throw new SymphonyError('no operation to attach to', 'start one with: symphony apply');
      const view = await follow(stateDir, client, id, o.json);
      await client.close();
      print(o, `operation ${id} ${view.operation.status}${view.operation.error ? `: ${view.operation.error}` : ''}`, view);
      return view.operation.status === 'succeeded' ? 0 : 1;
    }),
  );
}
