import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { renderPlan } from '../../plan/render.js';
import { action, envOf, print, requireStack, stateDirOf, withCommon, type GlobalOptions } from '../common.js';
import { computePlan } from '../planning.js';

interface PlanOptions extends GlobalOptions {
  target?: string[];
  out?: string;
}

export function registerPlan(program: Command): void {
  withCommon(program.command('plan').description('show what apply would change, without changing anything'))
    .option('-t, --target <service...>', 'limit the plan to these services and what they need')
    .option('-o, --out <file>', 'save the plan; `symphony apply <file>` applies exactly it')
    .action(
      action(async (o: PlanOptions) => {
        const { plan } = await computePlan(requireStack(o), o.env, stateDirOf(o), o.target);
        if (o.out) writeFileSync(o.out, JSON.stringify(plan, null, 2) + '\n', { mode: 0o600 });
        const saved = o.out ? `\nsaved to ${o.out}; apply it with: symphony apply ${o.out}${o.env ? ` --env ${envOf(o)}` : ''}` : '';
        print(o, renderPlan(plan) + saved, plan);
      }),
    );
}
