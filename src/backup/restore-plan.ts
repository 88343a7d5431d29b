import { dirname, join } from 'node:path';
import { kindCtx } from '../apply/instances.js';
import type { Plan, PlanStep, ReleaseConfig, RestoreStep } from '../plan/types.js';
import { BackupError } from './errors.js';
import { backedUpKind, backupLayout } from './layout.js';
import { restoreWindowStart } from './retention.js';
import type { BackupInfo, RestoreTarget } from './types.js';

export interface RestorePlanInput {
  stack: string;
  env: string;
  stackFile: string;
  serial: number;
  service: string;
  /** The service's current release and its config. */
  release: string;
  config: ReleaseConfig;
  target: RestoreTarget;
  backups: BackupInfo[];
  now: Date;
}

/** `shop-db-before-restore-20261203T182045Z`: the name the replaced volume is kept under. */
export function asideName(volume: string, now: Date): string {
  return `${volume}-before-restore-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`;
}

function checkTarget(inp: RestorePlanInput): RestoreTarget {
  const { service, backups } = inp;
  if (backups.length === 0) throw new BackupError(service, 'has no backup to restore from', `take one first: symphony backup now ${service} --wait`);
  if ('backup' in inp.target) {
    const id = inp.target.backup;
    if (!backups.some((b) => b.id === id)) throw new BackupError(service, `has no backup ${id}`, `list them: symphony backup list ${service}`);
    return inp.target;
  }
  const at = Date.parse(inp.target.time);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$/i.test(inp.target.time.trim())) throw new BackupError(service, `--to ${inp.target.time} is not a time`, 'give an ISO time such as 2026-12-03T18:20:56Z (UTC) or with an offset');
  const from = restoreWindowStart(backups) ?? backups[0].end;
  if (at < Date.parse(from)) throw new BackupError(service, `--to ${inp.target.time} is before the oldest backup (${from})`, `restore to ${from} or later, or pick a backup: symphony backup list ${service}`);
  if (at > inp.now.getTime()) throw new BackupError(service, `--to ${inp.target.time} is in the future`, `give a time up to now (${inp.now.toISOString()})`);
  // As given (validated): microseconds survive; pgBackRest reads the offset.
  return { time: inp.target.time.trim() };
}

/**
 * The plan of `symphony restore`: flush WAL and stop the server, keep its
 * volume aside under a new name, fill a fresh volume from the repository,
 * start the same release on it and wait until it has replayed to the target
 * and promoted. Pure: validates the target against the listed backups.
 */
export function makeRestorePlan(inp: RestorePlanInput): Plan {
  const { service, config } = inp;
  const kind = backedUpKind(config);
  if (!kind || !backupLayout(kindCtx(inp.env, config)) || !config.volume || !config.volumePath) {
    throw new BackupError(service, 'has no backup: section (or no volume) at its current release, so there is nothing to restore from', `add backup: to services.${service} and run: symphony apply`);
  }
  const target = checkTarget(inp);
  const aside = asideName(config.volume, inp.now);
  const restore: RestoreStep = { target, aside, asidePath: join(dirname(config.volumePath), aside) };
  const step = (verb: PlanStep['verb']): PlanStep => ({ name: `${service}:${verb}`, service, verb, release: inp.release, previous: null, ...(verb.startsWith('restore-') ? { restore } : {}) });
  const what = 'backup' in target ? `from backup ${target.backup}` : kind === 'postgres' ? `to ${target.time}` : `to ${target.time}: the newest ${kind === 'etcd' ? 'snapshot' : 'archive'} that ended by then (no WAL between them)`;
  return {
    format: 1,
    kind: 'restore',
    stack: inp.stack,
    env: inp.env,
    stackFile: inp.stackFile,
    serial: inp.serial,
    changes: [{ service, kind: config.kind, action: 'update', reasons: [`restore ${what}`, `current volume kept aside as ${aside}`], from: inp.release, to: inp.release }],
    steps: [step('restore-stop'), step('restore-aside'), step('restore-fetch'), step('start'), step('health')],
    releases: {},
    routes: [],
    replicas: { [service]: 1 },
  };
}
