import { clusterTemplateProblems, PORT_NAME, type ClusterTemplates } from './template.js';

/**
 * The `cluster:` section of a service, checked without zod: the rules of
 * `ClusterSection` in src/spec/schema.ts with the same messages. The loader
 * validates a stack file with the schema; the kind checks again with this so
 * that a kind used without the loader refuses the same mistakes, and so that
 * the agent, which runs kinds but never loads a stack file, does not load zod.
 */
export interface ClusterCheckSection {
  http?: string;
  exec?: string;
  tcp?: string;
  timeout?: string | number;
}

export interface ClusterSectionData {
  members: number;
  command: string;
  ports: string[];
  scheme?: string;
  health?: ClusterCheckSection;
  cluster_health?: ClusterCheckSection;
  leader?: { exec: string; timeout?: string | number };
  caught_up?: { exec: string; timeout?: string | number };
  handover?: { exec: string; timeout?: string | number };
  snapshot?: { exec: string; timeout?: string | number };
}

export interface SectionProblem {
  path: string[];
  message: string;
}

const DURATION = /^\d+(\.\d+)?(ms|s|m|h)$/;
const DURATION_MESSAGE = 'must be a duration such as 500ms, 10s, 5m or 1h, or a number of milliseconds';
const PORT_MESSAGE = 'must be a lowercase word of letters and digits, at most 20 long (client, peer, monitor)';
const CHECK_KEYS = ['http', 'exec', 'tcp', 'timeout'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDuration = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && DURATION.test(v));

function unknownKeys(raw: Record<string, unknown>, allowed: string[], path: string[], out: SectionProblem[]): void {
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) out.push({ path: [...path, k], message: `unknown key "${k}"; allowed: ${allowed.join(', ')}` });
}

function checkProbe(raw: unknown, name: string, execOnly: boolean, out: SectionProblem[]): void {
  if (raw === undefined) return;
  if (!isObject(raw)) return void out.push({ path: [name], message: 'must be an object' });
  unknownKeys(raw, execOnly ? ['exec', 'timeout'] : CHECK_KEYS, [name], out);
  if (raw.exec !== undefined && (typeof raw.exec !== 'string' || raw.exec.length === 0)) out.push({ path: [name, 'exec'], message: 'must be a non-empty shell command' });
  if (raw.timeout !== undefined && !isDuration(raw.timeout)) out.push({ path: [name, 'timeout'], message: DURATION_MESSAGE });
  if (execOnly) {
    if (raw.exec === undefined) out.push({ path: [name, 'exec'], message: 'is required: a shell command' });
    return;
  }
  if (raw.http !== undefined && (typeof raw.http !== 'string' || !raw.http.startsWith('http://'))) {
    out.push({ path: [name, 'http'], message: 'must be an http:// URL such as http://127.0.0.1:{monitor_port}/healthz' });
  }
  if (raw.tcp !== undefined && (typeof raw.tcp !== 'string' || !PORT_NAME.test(raw.tcp))) out.push({ path: [name, 'tcp'], message: PORT_MESSAGE });
  if ([raw.http, raw.exec, raw.tcp].filter((x) => x !== undefined).length !== 1) out.push({ path: [name], message: 'must have exactly one of http, exec, tcp' });
}

/** Every problem of a `cluster:` section, with its path inside the section; none means it is a `ClusterSectionData`. */
export function clusterSectionProblems(raw: unknown): SectionProblem[] {
  if (!isObject(raw)) return [{ path: [], message: 'must be an object with members, command and ports' }];
  const out: SectionProblem[] = [];
  unknownKeys(raw, ['members', 'command', 'ports', 'scheme', 'health', 'cluster_health', 'leader', 'caught_up', 'handover', 'snapshot'], [], out);
  const m = raw.members;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m % 2 === 0 || m > 9) {
    out.push({ path: ['members'], message: 'must be an odd number from 1 to 9: quorum is a majority, so an even count tolerates no more failures than one member fewer' });
  }
  if (typeof raw.command !== 'string' || raw.command.length === 0) out.push({ path: ['command'], message: 'must be a non-empty command line' });
  const ports = raw.ports;
  if (!Array.isArray(ports) || ports.length < 1 || ports.length > 8) out.push({ path: ['ports'], message: 'must list 1 to 8 port names' });
  else {
    ports.forEach((p, i) => {
      if (typeof p !== 'string' || !PORT_NAME.test(p)) out.push({ path: ['ports', String(i)], message: PORT_MESSAGE });
    });
    if (new Set(ports).size !== ports.length) out.push({ path: ['ports'], message: 'must not name a port twice' });
  }
  if (raw.scheme !== undefined && (typeof raw.scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(raw.scheme))) out.push({ path: ['scheme'], message: 'must be a URL scheme such as nats or redis' });
  checkProbe(raw.health, 'health', false, out);
  checkProbe(raw.cluster_health, 'cluster_health', false, out);
  checkProbe(raw.leader, 'leader', true, out);
  checkProbe(raw.caught_up, 'caught_up', true, out);
  checkProbe(raw.handover, 'handover', true, out);
  checkProbe(raw.snapshot, 'snapshot', true, out);
  // Placeholders are checked once the shape holds, as the schema's refinement does.
  return out.length > 0 ? out : clusterTemplateProblems(raw as unknown as ClusterTemplates);
}
