import { mkdirSync } from 'node:fs';
import { baseEnv } from '../../runtime/process/launch.js';
import { sh } from '../../util/exec.js';
import { registerKind } from '../registry.js';
import type { InstanceDraft, KindContext, ServiceKind } from '../types.js';
import { GenericCluster } from './cluster.js';
import { clientUrls, ClusterConfigError, clusterMembers, clusterSettings, clusterValues, memberValues, stablePortNames } from './layout.js';
import { renderTemplate } from './template.js';

/** The program a command line starts (after `exec` and `VAR=value` words), or null when it is not a plain word. */
export function programOf(command: string): string | null {
  const words = command.trim().split(/\s+/);
  while (words.length > 0 && (words[0] === 'exec' || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]))) words.shift();
  const first = words[0] ?? '';
  return /^[A-Za-z0-9_./+-]+$/.test(first) ? first : null;
}

/** The cluster probe of a service: member health, whole-cluster check and leader check from its stack file. */
export function genericCluster(ctx: KindContext): GenericCluster {
  const settings = clusterSettings(ctx);
  return new GenericCluster(ctx.service, clusterMembers(ctx, settings), settings, ctx.stackDir);
}

/**
 * A replicated program the user brings (NATS, Redis, Consul…): `members`
 * processes started from one command template, each with its own stable
 * named ports and data directory under the volume, replaced one at a time by
 * the cluster-rolling strategy (followers first, the leader last when a
 * leader check says which member leads).
 */
export const clusterKind: ServiceKind = {
  name: 'cluster',

  stablePorts(ctx) {
    return stablePortNames(clusterSettings(ctx));
  },

  instances(ctx): InstanceDraft[] {
    const settings = clusterSettings(ctx);
    const members = clusterMembers(ctx, settings);
    const cluster = clusterValues(members, settings);
    const env = { ...((ctx.spec.env ?? {}) as Record<string, string>) };
    return members.map((m) => ({
      ordinal: m.ordinal,
      command: renderTemplate(settings.command, memberValues(m, cluster)),
      cwd: ctx.stackDir,
      env: { ...env },
      port: m.ports[settings.ports[0]],
      volumePath: m.dataDir,
    }));
  },

  attributes(ctx) {
    const settings = clusterSettings(ctx);
    return { endpoints: clientUrls(clusterMembers(ctx, settings), settings) };
  },

  replaceMode() {
    return 'cluster-rolling';
  },

  health() {
    return null;
  },

  healthRule(ctx) {
    const h = clusterSettings(ctx).health;
    const what = h.http !== undefined ? `http ${h.http}` : h.exec !== undefined ? `exec ${JSON.stringify(h.exec)}` : `tcp on each member's ${h.tcp} port`;
    const where = (ctx.spec as { cluster?: { health?: unknown } }).cluster?.health === undefined ? 'default: tcp on the first port' : `services.${ctx.service}.cluster.health`;
    return { rule: `${what} on each member (${where})`, change: `set services.${ctx.service}.cluster.health` };
  },

  /** Checks that the program is on PATH and creates every member's data directory. */
  async prepare(ctx) {
    const settings = clusterSettings(ctx);
    const program = programOf(settings.command);
    if (program !== null && !program.includes('/')) {
      const found = await sh(`command -v ${program}`, { env: baseEnv(), timeoutMs: 10_000 });
      if (found.code !== 0) {
        throw new ClusterConfigError(ctx.service, `cluster.command runs "${program}", which is not on PATH (${baseEnv().PATH})`, `install ${program} or give its full path in cluster.command, then run symphony apply`);
      }
    }
    for (const m of clusterMembers(ctx, settings)) mkdirSync(m.dataDir, { recursive: true });
  },

  cluster(ctx) {
    return genericCluster(ctx);
  },

  probe(ctx, draft) {
    return genericCluster(ctx).probeMember(draft.ordinal);
  },
};

registerKind(clusterKind);

export { GenericCluster } from './cluster.js';
export { ClusterConfigError, clusterMembers, clusterSettings, type ClusterSettings, type MemberLayout } from './layout.js';
export { leaderOrdinal } from './checks.js';
