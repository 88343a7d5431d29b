/**
 * The placeholder language of the generic cluster kind. A placeholder is a
 * lowercase word in single braces, `{client_port}`; `${...}` (references and
 * shell variables) and braces around anything else (`awk '{ print $1 }'`) are
 * left alone. Pure: no I/O.
 *
 * Per member (command, health, leader, caught_up):
 *   {name} {index} {data_dir} {<port>_port}
 * Whole cluster (everywhere):
 *   {members} {names} {<port>_ports} {<port>_endpoints} {<port>_urls} {<port>_port_<i>}
 * Handover (run for the member that is to lead, the heir), besides its member words:
 *   {leader_name} {leader_index} {leader_<port>_port}
 * Snapshot (whole cluster), besides the cluster words:
 *   {snapshot_path}
 */

const PLACEHOLDER = /(?<!\$)\{([a-z][a-z0-9_]*)\}/g;

/** Port names are plain lowercase words so that `{<port>_port_<i>}` reads one way only. */
export const PORT_NAME = /^[a-z][a-z0-9]{0,19}$/;

export type TemplateScope = 'member' | 'cluster' | 'handover' | 'snapshot';

const MEMBER_WORDS = ['name', 'index', 'data_dir'];
const CLUSTER_WORDS = ['members', 'names'];
const PORT_WORD = /^([a-z][a-z0-9]*)_(port|ports|endpoints|urls)$/;
const INDEXED_PORT_WORD = /^([a-z][a-z0-9]*)_port_(\d+)$/;
const LEADER_WORDS = ['leader_name', 'leader_index'];
const LEADER_PORT_WORD = /^leader_([a-z][a-z0-9]*)_port$/;
const hasMemberWords = (scope: TemplateScope): boolean => scope === 'member' || scope === 'handover';

/** The cluster shape that decides which placeholders exist. */
export interface TemplateShape {
  members: number;
  ports: readonly string[];
}

/** Every placeholder word of a template, in order of appearance, each once. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** The placeholders a template may use in this scope, as the user writes them (for messages). */
export function knownPlaceholders(shape: TemplateShape, scope: TemplateScope): string[] {
  const words = hasMemberWords(scope) ? [...MEMBER_WORDS, ...shape.ports.map((p) => `${p}_port`)] : [];
  if (scope === 'handover') words.push(...LEADER_WORDS, ...shape.ports.map((p) => `leader_${p}_port`));
  if (scope === 'snapshot') words.push('snapshot_path');
  words.push(...CLUSTER_WORDS);
  for (const p of shape.ports) words.push(`${p}_ports`, `${p}_endpoints`, `${p}_urls`, `${p}_port_0`);
  return words.map((w) => `{${w}}`);
}

/** Why `{word}` cannot be used in this scope, or null when it can. */
export function placeholderProblem(word: string, shape: TemplateShape, scope: TemplateScope): string | null {
  const declared = `declared: ${shape.ports.join(', ') || 'none'}`;
  const perMember = `{${word}} is a value of one member; a whole-cluster check can use ${knownPlaceholders(shape, 'cluster').join(' ')}`;
  if (MEMBER_WORDS.includes(word)) return hasMemberWords(scope) ? null : perMember;
  if (CLUSTER_WORDS.includes(word)) return null;
  if (word === 'snapshot_path' && scope === 'snapshot') return null;
  if (scope === 'handover' && (LEADER_WORDS.includes(word) || LEADER_PORT_WORD.test(word))) {
    const name = LEADER_PORT_WORD.exec(word)?.[1];
    return name === undefined || shape.ports.includes(name) ? null : `port "${name}" of {${word}} is not declared in ports (${declared}); add it to ports`;
  }
  const port = PORT_WORD.exec(word) ?? INDEXED_PORT_WORD.exec(word);
  if (port) {
    const [, name, rest] = port;
    if (!shape.ports.includes(name)) return `port "${name}" of {${word}} is not declared in ports (${declared}); add it to ports`;
    if (rest === 'port' && !hasMemberWords(scope)) return perMember;
    if (/^\d+$/.test(rest) && Number(rest) >= shape.members) {
      return `{${word}} names member ${rest}, but the cluster has ${shape.members} member(s), numbered from 0`;
    }
    return null;
  }
  return `{${word}} is not a placeholder; known here: ${knownPlaceholders(shape, scope).join(' ')} (a literal brace: write \${...} or put a space inside)`;
}

/** Problems of every placeholder in `text`, one message each. */
export function templateProblems(text: string, shape: TemplateShape, scope: TemplateScope): string[] {
  return placeholders(text)
    .map((w) => placeholderProblem(w, shape, scope))
    .filter((p): p is string => p !== null);
}

/** Replace every placeholder that has a value; a placeholder without one is left as written. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (raw, word: string) => values[word] ?? raw);
}

/** The checks of a cluster section that hold templates, as the schema sees them. */
export interface ClusterTemplates extends TemplateShape {
  command: string;
  health?: { http?: string; exec?: string; tcp?: string };
  cluster_health?: { http?: string; exec?: string; tcp?: string };
  leader?: { exec: string };
  caught_up?: { exec: string };
  handover?: { exec: string };
  snapshot?: { exec: string };
}

/** Every template problem of a cluster section, with its path inside the section. Pure. */
export function clusterTemplateProblems(c: ClusterTemplates): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  const check = (path: string[], text: string | undefined, scope: TemplateScope): void => {
    if (text === undefined) return;
    for (const p of templateProblems(text, c, scope)) out.push({ path, message: `must use known placeholders only: ${p}` });
  };
  check(['command'], c.command, 'member');
  check(['health', 'http'], c.health?.http, 'member');
  check(['health', 'exec'], c.health?.exec, 'member');
  if (c.health?.tcp !== undefined && !c.ports.includes(c.health.tcp)) {
    out.push({ path: ['health', 'tcp'], message: `must name a declared port (declared: ${c.ports.join(', ')}), got "${c.health.tcp}"` });
  }
  check(['cluster_health', 'http'], c.cluster_health?.http, 'cluster');
  check(['cluster_health', 'exec'], c.cluster_health?.exec, 'cluster');
  if (c.cluster_health?.tcp !== undefined) {
    out.push({ path: ['cluster_health', 'tcp'], message: 'must be http or exec: a tcp check probes one member; put it under health' });
  }
  check(['leader', 'exec'], c.leader?.exec, 'member');
  check(['caught_up', 'exec'], c.caught_up?.exec, 'member');
  check(['handover', 'exec'], c.handover?.exec, 'handover');
  check(['snapshot', 'exec'], c.snapshot?.exec, 'snapshot');
  if (c.handover !== undefined && c.leader === undefined) out.push({ path: ['handover'], message: 'needs a leader check: without one the members have no leader to hand over from' });
  if (c.snapshot !== undefined && !c.snapshot.exec.includes('{snapshot_path}')) out.push({ path: ['snapshot', 'exec'], message: 'must write the snapshot to {snapshot_path}' });
  return out;
}
