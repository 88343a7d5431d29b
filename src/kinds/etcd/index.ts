import { mkdirSync } from 'node:fs';
import { run } from '../../util/exec.js';
import { registerKind } from '../registry.js';
import type { InstanceDraft, KindContext, ServiceKind } from '../types.js';
import { EtcdCluster } from './cluster.js';
import { probeMember } from './gateway.js';
import { clientUrl, EtcdConfigError, etcdMembers, etcdSettings, memberCommand } from './layout.js';

/** The cluster token: members of different stacks or environments never join each other. */
export function clusterToken(ctx: Pick<KindContext, 'stack' | 'env' | 'service'>): string {
  return `${ctx.stack}-${ctx.env}-${ctx.service}`;
}

/** Client URL of each member by ordinal (`m0` → `http://127.0.0.1:<client-0>`), for EtcdCluster. */
export function memberEndpoints(ctx: KindContext): Record<string, string> {
  return Object.fromEntries(etcdMembers(ctx).map((m) => [m.ordinal, clientUrl(m)]));
}

/**
 * etcd as a service kind: `members` processes forming one Raft cluster, each
 * with stable client/peer ports and its own data directory under the volume,
 * replaced one at a time by the cluster-rolling strategy.
 */
export const etcdKind: ServiceKind = {
  name: 'etcd',

  stablePorts(ctx) {
    const { members } = etcdSettings(ctx);
    const names: string[] = [];
    for (let i = 0; i < members; i++) names.push(`client-${i}`, `peer-${i}`);
    return names;
  },

  instances(ctx): InstanceDraft[] {
    const { settings } = etcdSettings(ctx);
    const all = etcdMembers(ctx);
    const token = clusterToken(ctx);
    return all.map((m) => ({
      ordinal: m.ordinal,
      command: memberCommand(m, all, token, settings),
      cwd: ctx.volumePath ?? ctx.stackDir,
      env: {},
      port: m.clientPort,
      volumePath: m.dataDir,
    }));
  },

  attributes(ctx) {
    return { endpoints: etcdMembers(ctx).map(clientUrl).join(',') };
  },

  replaceMode() {
    return 'cluster-rolling';
  },

  health() {
    return null;
  },

  healthRule: (ctx) => ({
    rule: "each member's /health answers true on its client port (etcd kind)",
    change: `look at the member's log; its flags are services.${ctx.service}.etcd.settings`,
  }),

  async prepare(ctx) {
    const { version } = etcdSettings(ctx);
    const res = await run('etcd', ['--version'], { timeoutMs: 10_000 }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }));
    const found = /etcd Version:\s*(\S+)/.exec(res.stdout)?.[1];
    if (res.code !== 0 || found === undefined) {
      throw new EtcdConfigError(ctx.service, `cannot run \`etcd --version\` (${res.stderr.trim() || `exit ${res.code}`})`, 'install etcd: apt-get install etcd-server, then run symphony apply');
    }
    if (found !== version && !found.startsWith(`${version}.`)) {
      throw new EtcdConfigError(ctx.service, `etcd.version is "${version}" but the installed etcd is ${found}`, `set etcd.version to "${found.split('.').slice(0, 2).join('.')}" or install etcd ${version}`);
    }
    mkdirSync(ctx.volumePath ?? ctx.stackDir, { recursive: true });
  },

  cluster(ctx) {
    return new EtcdCluster(memberEndpoints(ctx));
  },

  async probe(_ctx, draft) {
    if (draft.port === undefined) return { ok: false, detail: `member ${draft.ordinal} has no client port` };
    return probeMember(`http://127.0.0.1:${draft.port}`);
  },
};

registerKind(etcdKind);

export { EtcdCluster } from './cluster.js';
export { EtcdRequestError } from './gateway.js';
export { EtcdConfigError } from './layout.js';
export { etcdMembers, etcdSettings, type EtcdMember } from './layout.js';
