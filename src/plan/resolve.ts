import type { InstanceDraft } from '../kinds/types.js';
import { SymphonyError } from '../errors.js';

const REF = /\$\{([a-z][a-z0-9-]*)\.([A-Za-z0-9_]+)\}/g;
const SECRET = /\$\{secrets\.([A-Za-z0-9_.-]+)\}/g;

export type Attributes = Record<string, Record<string, string>>;

export class ReferenceError extends SymphonyError {
  override readonly code = 'reference';
}

/** Replace `${svc.attr}` with the attribute's value; `${secrets.X}` placeholders stay for the executor. */
export function resolveValue(value: string, attrs: Attributes, where: string): string {
  return value.replace(REF, (raw, service: string, attr: string) => {
    if (service === 'secrets') return raw;
    const val = attrs[service]?.[attr];
    if (val === undefined) {
      throw new ReferenceError(`${where}: ${raw} cannot be resolved: ${service} has no attribute '${attr}' here`, 'check the reference against docs/stack-file.md#references');
    }
    return val;
  });
}

export function resolveDraft(d: InstanceDraft, attrs: Attributes, where: string): InstanceDraft {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.env)) env[k] = resolveValue(v, attrs, `${where}.env.${k}`);
  return { ...d, command: resolveValue(d.command, attrs, `${where}.run`), env };
}

/** Names of the secrets a set of drafts refers to, sorted. */
export function secretsUsed(drafts: InstanceDraft[]): string[] {
  const names = new Set<string>();
  for (const d of drafts) {
    for (const text of [d.command, ...Object.values(d.env)]) {
      for (const m of text.matchAll(SECRET)) names.add(m[1]);
    }
  }
  return [...names].sort();
}
