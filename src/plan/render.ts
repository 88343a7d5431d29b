import type { StateStoreView } from './destroy.js';
import type { Plan } from './types.js';

const SIGN = { create: '+', replace: '~', update: '~', destroy: '-', none: '=' } as const;

/** The plan as a readable diff. Never contains a secret value: plans hold only placeholders and digests. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  lines.push(`Plan: ${plan.kind} stack ${plan.stack}, environment ${plan.env} (state serial ${plan.serial})`);
  const width = Math.max(8, ...plan.changes.map((c) => c.service.length));
  for (const c of plan.changes) {
    const what =
      c.action === 'create'
        ? `create   ${c.to}`
        : c.action === 'replace'
          ? `replace  ${c.from} -> ${c.to}${strategyNote(plan, c.to)}`
          : c.action === 'update'
            ? `update   ${c.from}`
            : c.action === 'destroy'
              ? `destroy  ${c.from ?? ''}`
              : `no change (${c.from})`;
    lines.push(`  ${SIGN[c.action]} ${c.service.padEnd(width)}  ${c.kind.padEnd(8)} ${what}`);
    for (const r of c.reasons) if (c.action !== 'create') lines.push(`  ${' '.repeat(width + 14)}- ${r}`);
    if (c.health) lines.push(`  ${' '.repeat(width + 14)}health: ${c.health}`);
    if (c.volume) lines.push(`  ${' '.repeat(width + 14)}volume: ${c.volume}`);
    if (c.pooler) lines.push(`  ${' '.repeat(width + 14)}pooler: ${c.pooler}`);
  }
  const changed = plan.changes.filter((c) => c.action !== 'none').length;
  if (changed === 0) {
    lines.push('No changes. The stack matches the recorded state.');
    return lines.join('\n');
  }
  lines.push('', `Steps (${plan.steps.length}):`);
  plan.steps.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${s.name}`));
  if (plan.deleteVolumes) lines.push('', 'Volumes WILL be deleted (--volumes).');
  return lines.join('\n');
}

function strategyNote(plan: Plan, release: string | null): string {
  const cfg = release ? plan.releases[release] : undefined;
  if (!cfg) return '';
  if (cfg.deploy.replaceMode === 'in-place') return ' (in place on the same volume: a reload when every changed setting allows it, else a restart with connections held by the pooler)';
  if (cfg.deploy.replaceMode === 'cluster-rolling') return ' (cluster-rolling, one member at a time)';
  return ` (${cfg.deploy.strategy})`;
}


