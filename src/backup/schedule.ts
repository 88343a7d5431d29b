import type { BackupSpec } from '../spec/schema.js';
import type { BackupType } from './types.js';

/** One job the schedule asks for. */
export interface BackupJob {
  /** `<env>/<service>/<what>`: stable, so a job whose pattern did not change is left running. */
  key: string;
  env: string;
  service: string;
  what: BackupType | 'verify';
  pattern: string;
}

/** The jobs the backed-up services' `backup.schedule` and `backup.verify.schedule` ask for. Pure. */
export function desiredJobs(services: Array<{ env: string; service: string; backup: BackupSpec }>): BackupJob[] {
  const out: BackupJob[] = [];
  for (const s of services) {
    const add = (what: BackupJob['what'], pattern: string | undefined): void => {
      if (pattern) out.push({ key: `${s.env}/${s.service}/${what}`, env: s.env, service: s.service, what, pattern });
    };
    add('full', s.backup.schedule?.full);
    add('diff', s.backup.schedule?.diff);
    add('incr', s.backup.schedule?.incr);
    add('verify', s.backup.verify?.schedule);
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** Which running jobs to stop and which to start so the running set matches the wanted one. Pure. */
export function jobChanges(running: Array<Pick<BackupJob, 'key' | 'pattern'>>, wanted: BackupJob[]): { stop: string[]; start: BackupJob[] } {
  const want = new Map(wanted.map((j) => [j.key, j]));
  const have = new Map(running.map((j) => [j.key, j.pattern]));
  return {
    stop: running.filter((j) => want.get(j.key)?.pattern !== j.pattern).map((j) => j.key),
    start: wanted.filter((j) => have.get(j.key) !== j.pattern),
  };
}
