import type { EtcdMember } from './layout.js';
import { clientUrl, peerUrl } from './layout.js';

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
