import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SymphonyError, StalePlanError } from '../../errors.js';
import type { Plan } from '../../plan/types.js';
import { renderPlan } from '../../plan/render.js';
import { rehearse, type RehearsalReport } from '../../rehearse/index.js';
import { loadStack } from '../../spec/index.js';
import { StateStore } from '../../state/store.js';
import { action, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { computePlan, readSecrets } from '../planning.js';

interface RehearseOptions extends GlobalOptions {
  keepOnFailure?: boolean;
}

/** A saved plan and the secrets of its stack; refused when the target moved since. */
function savedPlan(path: string, stateDir: string): { plan: Plan; secrets: Record<string, string> } {
  const plan = JSON.parse(readFileSync(path, 'utf8')) as Plan;
  if (plan.format !== 1) throw new SymphonyError(`${path} is not a Symphony plan`, 'make one with: symphony plan -o <file>');
  const store = new StateStore(stateDir);
  try {
    if (plan.serial !== store.serial()) throw new StalePlanError(plan.serial, store.serial());
  } finally {
    store.close();
  }
  return { plan, secrets: readSecrets(loadStack(plan.stackFile, { env: plan.env === 'default' ? undefined : plan.env })) };
}

function render(r: RehearsalReport): string {
  const lines = [`rehearsal ${r.id} of ${r.env} (plan ${r.digest}): ${r.passed ? 'PASSED' : 'FAILED'}`];
  for (const s of r.stages) lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${(s.ms / 1000).toFixed(1)} s)`);
  for (const v of r.volumes) lines.push(`  volume ${v.volume} (${v.service}) copied by ${v.method}: ${v.detail}`);
  for (const c of r.smoke) lines.push(`  smoke ${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  if (r.error) lines.push(`  error at ${r.error.stage}: ${r.error.message}`, ...(r.error.hint ? [`  next: ${r.error.hint}`] : []));
  if (r.kept) lines.push(`  the copy is kept at ${r.copyDir}; remove it with: symphony destroy --volumes --yes --state-dir ${r.copyDir}, then stop its agent and router`);
  const left = r.leftovers;
  if (left && (left.processes.length || left.ports.length || left.dir)) {
    lines.push(`  LEFT BEHIND: processes ${left.processes.map((p) => p.pid).join(', ') || 'none'}, ports ${left.ports.join(', ') || 'none'}, dir ${left.dir ?? 'none'}`);
  } else if (left) lines.push('  copy torn down: no process, port or directory left');
  return lines.join('\n');
}

export function registerRehearse(program: Command): void {
  withCommon(program.command('rehearse [planfile]').description('apply the plan to a throwaway copy of the environment, run the smoke checks, tear the copy down'))
    .option('--keep-on-failure', 'leave a failed copy running to look at', false)
    .action(
      action(async (planFile: string | undefined, o: RehearseOptions) => {
        const stateDir = stateDirOf(o);
        const { plan, secrets } = planFile ? savedPlan(planFile, stateDir) : await computePlan(requireStack(o), o.env, stateDir);
        if (!o.json) process.stderr.write(renderPlan(plan) + '\n');
        const report = await rehearse({ stateDir, plan, secrets, keepOnFailure: o.keepOnFailure === true, quiet: o.json === true, progress: o.json ? () => undefined : undefined });
        print(o, render(report), report);
        const left = report.leftovers;
        const clean = !left || (left.processes.length === 0 && left.ports.length === 0 && left.dir === null);
        return report.passed && clean ? 0 : 1;
      }),
    );
}
