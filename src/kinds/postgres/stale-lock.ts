import { shellQuote } from './settings.js';

/**
 * Shell lines run before the server starts: the lock files a killed server left (a power
 * cut, kill -9, a crashed agent), `postmaster.pid` in the data dir and `.s.PGSQL.<port>.lock`
 * in its own socket dir, are removed when no live process has the data dir as its working
 * directory, the way every postmaster and backend has.
 *
 * PostgreSQL removes such a file itself only when the pid in it no longer exists. After a
 * crash that pid can name a zombie nobody reaps or an unrelated process that reused the pid;
 * the server then refuses to start ("lock file ... already exists") until someone deletes
 * the file by hand. While any backend of the old server still runs, the files stay and the
 * server refuses as it should: two servers must never share a data dir.
 */
export function staleLockGuard(dataDir: string, socketDir: string): string {
  const dir = shellQuote(dataDir);
  const sock = shellQuote(socketDir);
  const shown = dataDir.replace(/["$`\\]/g, '');
  return [
    `if [ -f ${dir}/postmaster.pid ] || ls ${sock}/.s.PGSQL.*.lock >/dev/null 2>&1; then`,
    `  real=$(cd ${dir} && pwd -P); inuse=`,
    `  for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = "$real" ] && inuse=\${p#/proc/} && break; done`,
    `  if [ -z "$inuse" ]; then`,
    `    [ -f ${dir}/postmaster.pid ] && echo "symphony: removing the stale lock files of ${shown} left by pid $(head -n 1 ${dir}/postmaster.pid): no process uses the data dir" >&2`,
    `    rm -f ${dir}/postmaster.pid ${sock}/.s.PGSQL.*.lock`,
    `  fi`,
    `fi`,
  ].join('\n');
}
