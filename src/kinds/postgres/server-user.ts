import { execFileSync } from 'node:child_process';
import { PostgresKindError } from './errors.js';

/** The OS account postgres runs as when Symphony itself runs as root (postgres refuses root). */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

let cached: ServerUser | null | undefined;

/** null when we are not root (postgres runs as us); otherwise the unprivileged account to use. */
export function serverUser(): ServerUser | null {
  if (cached !== undefined) return cached;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return (cached = null);
  const name = process.env.SYMPHONY_POSTGRES_OS_USER ?? 'postgres';
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return (cached = { name, uid, gid });
  } catch {
    throw new PostgresKindError(
      `running as root, but the account '${name}' that postgres must run as does not exist`,
      'create it (useradd --system postgres) or set SYMPHONY_POSTGRES_OS_USER to an unprivileged account',
    );
  }
}

/** `[cmd, args]` that runs `cmd args` as the server user (setpriv execs, so the pid stays the server's). */
export function asServerUser(cmd: string, args: string[]): [string, string[]] {
  const user = serverUser();
  if (!user) return [cmd, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', cmd, ...args]];
}
