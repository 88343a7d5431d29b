import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/util/exec.js';

const AUTHOR = { GIT_AUTHOR_NAME: 'Carol', GIT_AUTHOR_EMAIL: 'carol@example.com', GIT_COMMITTER_NAME: 'Carol', GIT_COMMITTER_EMAIL: 'carol@example.com' };

async function git(dir: string, args: string[]): Promise<string> {
  const r = await run('git', args, { cwd: dir, env: { ...process.env, ...AUTHOR } });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** A real git repository in a temp dir, with `files` committed by Carol. Returns the dir and the commit. */
export async function gitRepo(files: Record<string, string>): Promise<{ dir: string; sha: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'symphony-repo-'));
  chmodSync(dir, 0o711);
  await git(dir, ['init', '-q', '-b', 'main']);
  return { dir, sha: await commit(dir, files, 'first') };
}

/** Write `files` and commit them; returns the new commit. */
export async function commit(dir: string, files: Record<string, string>, message: string): Promise<string> {
  write(dir, files);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/** Change files in the working directory without committing them. */
export const editUncommitted = write;

/**
 * An app that answers `<version> <build stamp>` (the stamp written by its
 * build: command), optionally `delayMs` late, with /healthz for probes and
 * /count (how many other requests this process answered).
 */
/** An app answering `<version> <build stamp>`; `delayMs` late, only for its first `slowFirst` requests when that is set. */
export const stampApp = (version: string, delayMs = 0, slowFirst = 0): string => `import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
const stamp = readFileSync(new URL('./build.txt', import.meta.url), 'utf8').trim();
let served = 0;
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url === '/count') return res.end(String(served));
  served++;
  const body = ${JSON.stringify(version)} + ' ' + stamp + '\\n';
  if (${delayMs} > 0 && (${slowFirst} === 0 || served <= ${slowFirst})) return setTimeout(() => res.end(body), ${delayMs});
  res.end(body);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); server.closeIdleConnections(); });
`;
