import type { AgentGuest, GuestContext, ScheduledJob } from '../agent/guest.js';
import type { Route } from '../agent/http.js';
import { describeError, SymphonyError } from '../errors.js';
import { listBackups, summary, takeBackup, verify } from './actions.js';
import { backupSpecOf } from './layout.js';
import { desiredJobs, jobChanges, type BackupJob } from './schedule.js';
import { backedUpServices } from './service.js';
import type { BackupType } from './types.js';

const TYPES = new Set<BackupType>(['full', 'diff', 'incr']);
/** How often the schedule is compared with the current releases (an apply may have changed `backup:`). */
const SYNC_MS = 15_000;

interface BackupBody {
  env?: string;
  service?: string;
  type?: string;
  wait?: boolean;
  backup?: string;
}

function need(body: BackupBody | null): { env: string; service: string } {
  if (!body?.service) throw new SymphonyError('no service given', 'name one: symphony backup now <service>');
  return { env: body.env ?? 'default', service: body.service };
}

/**
 * Backups as a guest of the agent: the socket API of `symphony backup` and the
 * schedule of every service's `backup:` section. One backup or verification
 * of a service runs at a time; the others wait their turn.
 */
export function backupGuest(): AgentGuest {
  let host: GuestContext | null = null;
  let timer: NodeJS.Timeout | null = null;
  const jobs = new Map<string, ScheduledJob>();
  const queues = new Map<string, Promise<unknown>>();

  const serial = <T>(env: string, service: string, fn: () => Promise<T>): Promise<T> => {
    const key = `${env}/${service}`;
    const next = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    queues.set(key, next);
    return next;
  };
  const deps = () => {
    if (!host) throw new SymphonyError('backups are not started in this agent');
    return host.deps;
  };

  const runJob = async (job: BackupJob): Promise<void> => {
    const d = deps();
    try {
      if (job.what === 'verify') await serial(job.env, job.service, () => verify(d, job.env, job.service));
      else await serial(job.env, job.service, () => takeBackup(d, job.env, job.service, job.what as BackupType));
    } catch (err) {
      d.store.addEvent(job.env, 'backup-failed', `scheduled ${job.what} of ${job.service} failed: ${describeError(err).error}`, { service: job.service });
      throw err;
    }
  };

  const sync = (): void => {
    if (!host) return;
    const wanted = desiredJobs(backedUpServices(host.deps).map((s) => ({ env: s.env, service: s.service, backup: backupSpecOf(s.config.spec)! })));
    const { stop, start } = jobChanges([...jobs.entries()].map(([key, j]) => ({ key, pattern: j.pattern })), wanted);
    for (const key of stop) {
      jobs.get(key)?.stop();
      jobs.delete(key);
    }
    for (const job of start) jobs.set(job.key, host.schedule(`backup ${job.key}`, job.pattern, () => runJob(job)));
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/v1\/backups$/,
      handler: async (_m, _r, _b, url) => {
        const env = url.searchParams.get('env') ?? 'default';
        const service = url.searchParams.get('service');
        if (service) return listBackups(deps(), env, service);
        const d = deps();
        const services = backedUpServices(d).filter((s) => s.env === env);
        const summaries = await Promise.all(services.map((s) => summary(d, env, s.service)));
        return { env, services: summaries, schedule: [...jobs.entries()].filter(([k]) => k.startsWith(`${env}/`)).map(([key, j]) => ({ key, pattern: j.pattern, next: j.next()?.toISOString() ?? null })) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/backups$/,
      handler: async (_m, _r, raw) => {
        const body = raw as BackupBody | null;
        const { env, service } = need(body);
        const type = (body?.type ?? 'full') as BackupType;
        if (!TYPES.has(type)) throw new SymphonyError(`unknown backup type ${body?.type}`, 'use --type full, diff or incr');
        const d = deps();
        const job = serial(env, service, () => takeBackup(d, env, service, type));
        if (body?.wait) return job;
        job.catch((err: unknown) => d.store.addEvent(env, 'backup-failed', `${type} backup of ${service} failed: ${describeError(err).error}`, { service }));
        return { started: true, env, service, type };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/backups\/verify$/,
      handler: async (_m, _r, raw) => {
        const body = raw as BackupBody | null;
        const { env, service } = need(body);
        const d = deps();
        return serial(env, service, () => verify(d, env, service, body?.backup));
      },
    },
  ];

  return {
    name: 'backup',
    routes,
    start(h) {
      host = h;
      sync();
      timer = setInterval(() => {
        try {
          sync();
        } catch (err) {
          h.deps.log.warn({ err: describeError(err).error }, 'backup schedule sync failed');
        }
      }, SYNC_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      for (const j of jobs.values()) j.stop();
      jobs.clear();
      await Promise.all([...queues.values()].map((p) => p.catch(() => undefined)));
      host = null;
    },
  };
}
