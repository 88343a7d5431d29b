import { join } from 'node:path';
import { SymphonyError } from '../../errors.js';
import type { KindContext } from '../types.js';

/** The etcd section of a service cannot be turned into a cluster. */
export class EtcdConfigError extends SymphonyError {
  override readonly code = 'etcd_config';
  constructor(service: string, message: string, hint = 'fix the stack file, then run `symphony validate`') {
    super(`service ${service} (etcd): ${message}`, hint);
  }
}

/** Where one etcd member lives: name, ports and data directory stay the same across replacements. */
export interface EtcdMember {
  index: number;
  /** Instance ordinal: `m<index>`. */
  ordinal: string;
  /** etcd member name: `<service>-<index>`. */
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
}

export interface EtcdSettings {
  version: string;
  members: number;
  settings: Record<string, string>;
}

export const MAX_MEMBERS = 9;

/** Flags Symphony sets itself: a setting may not override member identity or addresses. */
const OWNED_FLAGS = new Set([
  'name',
  'data-dir',
  'wal-dir',
  'listen-client-urls',
  'advertise-client-urls',
  'listen-peer-urls',
  'initial-advertise-peer-urls',
  'initial-cluster',
  'initial-cluster-token',
  'initial-cluster-state',
  'discovery',
  'discovery-srv',
  'config-file',
]);

/** The validated `etcd:` section of a service: an odd member count, settings that are plain etcd flags. */
export function etcdSettings(ctx: Pick<KindContext, 'service' | 'spec'>): EtcdSettings {
  const raw = (typeof ctx.spec.etcd === 'object' && ctx.spec.etcd !== null ? ctx.spec.etcd : {}) as Record<string, unknown>;
  const { version, members } = raw;
  if (typeof version !== 'string' || version === '') throw new EtcdConfigError(ctx.service, 'etcd.version is missing (a version such as "3.4")');
  if (typeof members !== 'number' || !Number.isInteger(members)) throw new EtcdConfigError(ctx.service, 'etcd.members must be a whole number (3 or 5)');
  if (members < 1 || members % 2 === 0 || members > MAX_MEMBERS) {
    throw new EtcdConfigError(
      ctx.service,
      `etcd.members is ${members}; a cluster needs an odd number of members between 1 and ${MAX_MEMBERS} ` +
        '(1, 3, 5…) so that a majority survives the loss of a member',
      'set etcd.members to 3 (or 5) in the stack file, then run `symphony validate`',
    );
  }
  const settings: Record<string, string> = {};
  const rawSettings = (typeof raw.settings === 'object' && raw.settings !== null ? raw.settings : {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(rawSettings)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new EtcdConfigError(ctx.service, `etcd.settings.${key}: must be a string, number or boolean`);
    }
    settings[key] = String(value);
    if (!/^[a-z][a-z0-9-]*$/.test(key)) {
      throw new EtcdConfigError(ctx.service, `etcd.settings.${key}: not an etcd flag name (lowercase words with dashes, without the leading --)`);
    }
    if (OWNED_FLAGS.has(key)) {
      throw new EtcdConfigError(ctx.service, `etcd.settings.${key}: Symphony sets this flag itself (member identity, addresses and data directory stay stable)`);
    }
  }
  return { version, members, settings };
}

/** Every member of the cluster, from the service's stable ports and volume root. */
export function etcdMembers(ctx: KindContext): EtcdMember[] {
  const { members } = etcdSettings(ctx);
  if (ctx.volumePath === null) {
    throw new EtcdConfigError(ctx.service, 'no volume: every etcd member needs its own data directory', 'add `volume: <name>` to the service, then run `symphony validate`');
  }
  const root = ctx.volumePath;
  const out: EtcdMember[] = [];
  for (let i = 0; i < members; i++) {
    const clientPort = ctx.ports[`client-${i}`];
    const peerPort = ctx.ports[`peer-${i}`];
    if (clientPort === undefined || peerPort === undefined) {
      throw new EtcdConfigError(ctx.service, `ports client-${i} and peer-${i} are not allocated`, 'this is a bug in the planner: report it with the output of symphony plan');
    }
    out.push({ index: i, ordinal: `m${i}`, name: `${ctx.service}-${i}`, clientPort, peerPort, dataDir: join(root, `member-${i}`) });
  }
  return out;
}

export const clientUrl = (m: Pick<EtcdMember, 'clientPort'>): string => `http://127.0.0.1:${m.clientPort}`;
export const peerUrl = (m: Pick<EtcdMember, 'peerPort'>): string => `http://127.0.0.1:${m.peerPort}`;

/** Quote one word for `/bin/sh -c`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Arguments of one member's `etcd` process. `--initial-cluster-state new` only
 * matters on first boot: once the data directory holds a member, etcd ignores
 * the initial-cluster flags and rejoins as the same member. `--pre-vote`
 * (off by default in 3.4) keeps a restarted member from forcing an election
 * against a live leader, which would cost the whole cluster its leader.
 */
export function memberArgs(member: EtcdMember, all: EtcdMember[], token: string, settings: Record<string, string>): string[] {
  const args = [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${clientUrl(member)}`,
    `--advertise-client-urls=${clientUrl(member)}`,
    `--listen-peer-urls=${peerUrl(member)}`,
    `--initial-advertise-peer-urls=${peerUrl(member)}`,
    `--initial-cluster=${all.map((m) => `${m.name}=${peerUrl(m)}`).join(',')}`,
    `--initial-cluster-token=${token}`,
    '--initial-cluster-state=new',
    '--pre-vote=true',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  for (const key of Object.keys(settings).sort()) args.push(`--${key}=${settings[key]}`);
  return args;
}

/** The shell command line of one member; `exec` so the member is the process the driver signals. */
export function memberCommand(member: EtcdMember, all: EtcdMember[], token: string, settings: Record<string, string>): string {
  return ['exec', 'etcd', ...memberArgs(member, all, token, settings)].map(shellQuote).join(' ');
}
