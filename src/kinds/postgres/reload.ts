import { chownSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext } from '../types.js';
import { PostgresKindError } from './errors.js';
import { PASSWORD_ENV } from './initdb.js';
import { run } from '../../util/exec.js';
import { asServerUser, serverUser } from './server-user.js';
import { DIGEST_SETTING, postgresLayout, settingsDigest, settingsFileText, SETTINGS_INCLUDE, type PostgresLayout } from './settings.js';

/**
 * `pg_settings.context` values whose settings a reload (SIGHUP) changes for every session,
 * the running ones included. `backend` ones only reach new sessions, which behind a pooler
 * may not come for hours, and `postmaster` ones need a new server process.
 */
export const RELOAD_CONTEXTS: ReadonlySet<string> = new Set(['sighup', 'superuser', 'user']);

/** Whether a change can be applied by reload, and why (for the step's result and the events). */
export interface ReloadVerdict {
  reload: boolean;
  changed: string[];
  why: string;
}

const versionOf = (ctx: KindContext): string => String((ctx.spec as { postgres?: { version?: string } }).postgres?.version ?? '');

/**
 * Names of the settings that differ between two layouts of one server (a removed setting
 * counts), or null when the server itself differs: version, binaries, paths, port, user. Pure.
 */
export function changedSettings(from: PostgresLayout, to: PostgresLayout, fromVersion: string, toVersion: string): string[] | null {
  const same = fromVersion === toVersion && from.binDir === to.binDir && from.user === to.user && from.database === to.database
    && JSON.stringify(from.args) === JSON.stringify(to.args) && from.settingsPath === to.settingsPath;
  if (!same) return null;
  const names = new Set([...Object.keys(from.settings), ...Object.keys(to.settings)]);
  return [...names].filter((n) => from.settings[n] !== to.settings[n]).sort();
}

/** Decide reload or restart from the server's own `pg_settings.context` of each changed setting. Pure. */
export function reloadVerdict(changed: string[] | null, contexts: Record<string, string>): ReloadVerdict {
  if (changed === null) return { reload: false, changed: [], why: 'the version, binaries, port or paths change: a new server process is needed' };
  if (changed.length === 0) return { reload: true, changed, why: 'no setting changes' };
  const restart = changed.filter((n) => !RELOAD_CONTEXTS.has(contexts[n] ?? ''));
  if (restart.length === 0) return { reload: true, changed, why: `${changed.join(', ')} ${changed.length === 1 ? 'has' : 'have'} pg_settings.context ${[...new Set(changed.map((n) => contexts[n]))].join('/')}: applied by reload` };
  const described = restart.map((n) => `${n} (${contexts[n] ? `context ${contexts[n]}` : 'unknown to the server'})`);
  return { reload: false, changed, why: `${described.join(', ')} need${restart.length === 1 ? 's' : ''} a restart` };
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const user = serverUser();
  if (user) chownSync(tmp, user.uid, user.gid);
  renameSync(tmp, path);
}

type Client = import('pg').Client;

async function superuser(layout: PostgresLayout, password: string): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port: layout.port, user: 'postgres', database: layout.database, password, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Errors in the configuration as a new server would read it: `postgres -C` (allowed beside
 * a running server) parses postgresql.conf with the settings file and checks every value.
 */
async function configErrors(layout: PostgresLayout): Promise<string | null> {
  const [cmd, args] = asServerUser(join(layout.binDir, 'postgres'), ['-D', layout.dataDir, '-C', 'data_directory']);
  const res = await run(cmd, args, { timeoutMs: 30_000, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  if (res.code === 0) return null;
  const lines = res.stderr.split('\n').map((l) => l.trim().replace(/^.*?\b(LOG|FATAL|ERROR):\s+/, '')).filter((l) => l && !/contains errors$/.test(l));
  return lines.join('; ') || `postgres -C exited ${res.code}`;
}

async function waitDigest(layout: PostgresLayout, password: string, want: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await superuser(layout, password);
    try {
      const seen = (await c.query<{ v: string | null }>(`SELECT current_setting('${DIGEST_SETTING}', true) AS v`)).rows[0]?.v;
      if (seen === want) return;
      if (Date.now() > deadline) throw new PostgresKindError(`the server on port ${layout.port} did not take the new settings within 10 s of a reload (digest ${seen ?? 'none'}, want ${want})`, `look at its log; symphony logs <service>`);
    } finally {
      await c.end().catch(() => undefined);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Apply a settings change to the running server by reload when every changed setting's
 * `pg_settings.context` allows it. The new settings file is checked by the server first
 * (`pg_file_settings`): a bad value is refused with the server's message and the old file
 * put back, so nothing changes. When a restart is needed the old file is put back too
 * (the new server writes its own at start) and `reloaded` is false.
 */
export async function reloadInPlace(from: KindContext, to: KindContext, env: Record<string, string>): Promise<{ reloaded: boolean; detail: string }> {
  const [a, b] = [postgresLayout(from), postgresLayout(to)];
  const changed = changedSettings(a, b, versionOf(from), versionOf(to));
  if (changed === null) return { reloaded: false, detail: reloadVerdict(null, {}).why };
  const conf = join(a.dataDir, 'postgresql.conf');
  if (!existsSync(conf) || !readFileSync(conf, 'utf8').split('\n').includes(SETTINGS_INCLUDE)) {
    return { reloaded: false, detail: 'the running server was started with its settings on the command line (before the settings file): a restart moves them' };
  }
  const password = env[PASSWORD_ENV] ?? '';
  const client = await superuser(b, password);
  const before = existsSync(b.settingsPath) ? readFileSync(b.settingsPath, 'utf8') : settingsFileText(a.settings);
  try {
    const rows = (await client.query<{ name: string; context: string }>('SELECT name, context FROM pg_settings WHERE name = ANY($1)', [changed])).rows;
    const verdict = reloadVerdict(changed, Object.fromEntries(rows.map((r) => [r.name, r.context])));
    writeAtomically(b.settingsPath, settingsFileText(b.settings));
    const errors = await configErrors(b);
    if (errors || !verdict.reload) writeAtomically(b.settingsPath, before);
    if (errors) {
      throw new PostgresKindError(`service ${to.service}: postgres refuses the new settings: ${errors}`, `fix services.${to.service}.postgres.settings; the running server was not changed`);
    }
    if (!verdict.reload) return { reloaded: false, detail: verdict.why };
    await client.query('SELECT pg_reload_conf()');
    await waitDigest(b, password, settingsDigest(b.settings));
    return { reloaded: true, detail: verdict.why };
  } finally {
    await client.end().catch(() => undefined);
  }
}
