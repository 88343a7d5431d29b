import { join } from 'node:path';
import { SymphonyError } from '../../errors.js';
import { parseDuration } from '../../util/duration.js';
import type { KindContext } from '../types.js';
import { clusterSectionProblems, type ClusterSectionData } from './section.js';
import { renderTemplate } from './template.js';

/** The `cluster:` section of a service cannot be turned into members. */
export class ClusterConfigError extends SymphonyError {
  override readonly code = 'cluster_config';
  constructor(service: string, message: string, hint = 'fix the stack file, then run `symphony validate`') {
    super(`service ${service} (cluster): ${message}`, hint);
  }
}

/** A check of a member or of the whole cluster, templates not yet rendered. */
export interface CheckTemplate {
  http?: string;
  exec?: string;
  /** A declared port name. */
  tcp?: string;
  timeoutMs: number;
}

/** The validated `cluster:` section. */
export interface ClusterSettings {
  members: number;
  command: string;
  /** Declared port names; the first is the client port. */
  ports: string[];
  scheme: string;
  health: CheckTemplate;
  clusterHealth: CheckTemplate | null;
  leader: CheckTemplate | null;
  caughtUp: CheckTemplate | null;
  handover: CheckTemplate | null;
  snapshot: CheckTemplate | null;
}

/** Where one member lives: name, ports and data directory stay the same across replacements. */
export interface MemberLayout {
  index: number;
  /** Instance ordinal: `m<index>`. */
  ordinal: string;
  /** `<service>-<index>`. */
  name: string;
  /** Stable port of each declared port name. */
  ports: Record<string, number>;
  dataDir: string;
}

const CHECK_TIMEOUT_MS = 2_000;
/** Handing leadership over and writing a backup take longer than a check. */
const ACTION_TIMEOUT_MS = 30_000;

function check(raw: { http?: string; exec?: string; tcp?: string; timeout?: string | number } | undefined, defaultMs = CHECK_TIMEOUT_MS): CheckTemplate | null {
  if (raw === undefined) return null;
  const { timeout, ...probe } = raw;
  return { ...probe, timeoutMs: parseDuration(timeout, defaultMs) };
}

/**
 * The `cluster:` section of a service, checked with the rules of the stack
 * file's schema (so a kind used without the loader says the same things) but
 * without zod, which the agent does not load.
 */
export function clusterSettings(ctx: Pick<KindContext, 'service' | 'spec'>): ClusterSettings {
  const first = clusterSectionProblems(ctx.spec.cluster)[0];
  if (first) throw new ClusterConfigError(ctx.service, `${['cluster', ...first.path].join('.')}: ${first.message}`);
  const c = ctx.spec.cluster as ClusterSectionData;
  return {
    members: c.members,
    command: c.command,
    ports: c.ports,
    scheme: c.scheme ?? 'http',
    health: check(c.health) ?? { tcp: c.ports[0], timeoutMs: CHECK_TIMEOUT_MS },
    clusterHealth: check(c.cluster_health),
    leader: check(c.leader),
    caughtUp: check(c.caught_up),
    handover: check(c.handover, ACTION_TIMEOUT_MS),
    snapshot: check(c.snapshot, ACTION_TIMEOUT_MS),
  };
}

/** The stable port names of a service: `<port>-<index>` for every member and declared port. */
export function stablePortNames(settings: Pick<ClusterSettings, 'members' | 'ports'>): string[] {
  const names: string[] = [];
  for (let i = 0; i < settings.members; i++) for (const p of settings.ports) names.push(`${p}-${i}`);
  return names;
}

/** Every member, from the service's stable ports and volume root. */
export function clusterMembers(ctx: KindContext, settings: ClusterSettings = clusterSettings(ctx)): MemberLayout[] {
  if (ctx.volumePath === null) {
    throw new ClusterConfigError(ctx.service, 'no volume: every member needs its own data directory', 'add `volume: <name>` to the service, then run `symphony validate`');
  }
  const out: MemberLayout[] = [];
  for (let i = 0; i < settings.members; i++) {
    const ports: Record<string, number> = {};
    for (const p of settings.ports) {
      const port = ctx.ports[`${p}-${i}`];
      if (port === undefined) throw new ClusterConfigError(ctx.service, `port ${p}-${i} is not allocated`, 'this is a bug in the planner: report it with the output of symphony plan');
      ports[p] = port;
    }
    out.push({ index: i, ordinal: `m${i}`, name: `${ctx.service}-${i}`, ports, dataDir: join(ctx.volumePath, `member-${i}`) });
  }
  return out;
}

const HOST = '127.0.0.1';

/** Values of the cluster-wide placeholders. */
export function clusterValues(members: readonly MemberLayout[], settings: Pick<ClusterSettings, 'ports' | 'scheme'>): Record<string, string> {
  const values: Record<string, string> = { members: String(members.length), names: members.map((m) => m.name).join(',') };
  for (const p of settings.ports) {
    values[`${p}_ports`] = members.map((m) => m.ports[p]).join(',');
    values[`${p}_endpoints`] = members.map((m) => `${HOST}:${m.ports[p]}`).join(',');
    values[`${p}_urls`] = members.map((m) => `${settings.scheme}://${HOST}:${m.ports[p]}`).join(',');
    members.forEach((m) => (values[`${p}_port_${m.index}`] = String(m.ports[p])));
  }
  return values;
}

/** Values of every placeholder a member's templates may use. */
export function memberValues(member: MemberLayout, cluster: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = { ...cluster, name: member.name, index: String(member.index), data_dir: member.dataDir };
  for (const [p, port] of Object.entries(member.ports)) values[`${p}_port`] = String(port);
  return values;
}

/** Values of a handover run for `heir`: its own words plus the current leader's as {leader_*}. */
export function handoverValues(heir: MemberLayout, leader: MemberLayout, cluster: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = { ...memberValues(heir, cluster), leader_name: leader.name, leader_index: String(leader.index) };
  for (const [p, port] of Object.entries(leader.ports)) values[`leader_${p}_port`] = String(port);
  return values;
}

/** A check with its templates rendered for one member (or the whole cluster). */
export function renderCheck(c: CheckTemplate, values: Readonly<Record<string, string>>): CheckTemplate {
  return {
    ...c,
    http: c.http === undefined ? undefined : renderTemplate(c.http, values),
    exec: c.exec === undefined ? undefined : renderTemplate(c.exec, values),
  };
}

/** The client URLs of every member (first declared port), for `${svc.endpoints}`. */
export function clientUrls(members: readonly MemberLayout[], settings: Pick<ClusterSettings, 'ports' | 'scheme'>): string {
  return clusterValues(members, settings)[`${settings.ports[0]}_urls`];
}
