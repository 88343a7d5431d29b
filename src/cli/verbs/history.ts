import type { Command } from 'commander';
import { PipelineStore } from '../../pipeline/store.js';
import type { Plan } from '../../plan/types.js';
import { Journal } from '../../state/journal.js';
import { StateStore } from '../../state/store.js';
import { action, envOf, print, stateDirOf, withCommon, type GlobalOptions } from '../common.js';

/** What a restore did, from its plan: the target and where the replaced volume is kept. */
function noteOf(plan: unknown): string | null {
  const step = (plan as Plan | null)?.steps?.find((s) => s.restore);
  if (!step?.restore) return null;
  const t = step.restore.target;
  return `${step.service} ${'time' in t ? `to ${t.time}` : `from ${t.backup}`}, volume kept aside as ${step.restore.aside}`;
}

export function registerHistory(program: Command): void {
  withCommon(program.command('history [service]').description('releases per service (live, warm, retired, failed) and recent operations')).action(
    action(async (service: string | undefined, o: GlobalOptions) => {
      const env = envOf(o);
      const store = new StateStore(stateDirOf(o));
      try {
        const services = store.services(env).filter((s) => !service || s.name === service);
        const origins = new PipelineStore(store).releaseOrigins(env);
        const data = {
          env,
          services: services.map((s) => ({
            name: s.name,
            current: s.currentRelease,
            releases: store.releases(env, s.name).map((r) => ({
              id: r.id,
              status: r.status,
              createdAt: r.createdAt,
              warmUntil: r.warmUntil,
              artifact: (r.config as { artifact?: string }).artifact ?? null,
              commit: origins.get(r.id)?.commit ?? null,
              run: origins.get(r.id)?.run ?? null,
            })),
          })),
          operations: new Journal(store).list(env, 20).map((op) => ({ id: op.id, kind: op.kind, status: op.status, createdAt: op.createdAt, finishedAt: op.finishedAt, error: op.error, note: noteOf(op.plan) })),
        };
        const lines: string[] = [];
        for (const s of data.services) {
          lines.push(`${s.name}`);
          for (const r of s.releases) {
            const mark = r.id === s.current ? '*' : ' ';
            const origin = r.commit ? `  commit ${r.commit.slice(0, 12)} (${r.run})` : '';
            const files = r.artifact && /^[0-9a-f]{64}$/.test(r.artifact) ? `  artifact ${r.artifact.slice(0, 12)}` : '';
            lines.push(`  ${mark} ${r.id.padEnd(20)} ${r.status.padEnd(8)} ${r.createdAt}${files}${origin}${r.warmUntil ? `  warm until ${r.warmUntil}` : ''}`);
          }
        }
        lines.push('', 'operations:');
        for (const op of data.operations) lines.push(`  ${op.id}  ${op.kind.padEnd(8)} ${op.status.padEnd(9)} ${op.createdAt}${op.note ? `  ${op.note}` : ''}${op.error ? `  ${op.error}` : ''}`);
        print(o, lines.join('\n'), data);
      } finally {
        store.close();
      }
    }),
  );
}
