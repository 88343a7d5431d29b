import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../util/exec.js';
import { PostgresKindError } from './errors.js';
import { asServerUser, serverUser } from './server-user.js';
import type { PostgresLayout } from './settings.js';

/** Env var through which `prepare` receives the generated password. */
export const PASSWORD_ENV = 'POSTGRES_PASSWORD';
const BOOTSTRAP_MARKER = '.symphony-bootstrap';

function ownByServer(path: string): void {
  const user = serverUser();
  if (user) chownSync(path, user.uid, user.gid);
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('(secret)') : text;
}

function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function sqlIdent(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

async function runAsServer(cmd: string, args: string[], input?: string) {
  const [c, a] = asServerUser(cmd, args);
  return run(c, a, { input, timeoutMs: 120_000, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
}

async function initdb(layout: PostgresLayout, password: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'symphony-pw-'));
  const pwfile = join(tmp, 'pw');
  try {
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    ownByServer(tmp);
    ownByServer(pwfile);
    const res = await runAsServer(join(layout.binDir, 'initdb'), [
      '-D', layout.dataDir, '-U', 'postgres', `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '-E', 'UTF8', '--no-instructions',
    ]);
    if (res.code !== 0) {
      throw new PostgresKindError(
        `initdb into ${layout.dataDir} failed (exit ${res.code}): ${redact(res.stderr.trim(), password)}`,
        `look at ${layout.dataDir}; if it holds no data you need, empty it and run \`symphony apply\` again`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Create the application role and database with the single-user backend (no listener needed). */
async function bootstrap(layout: PostgresLayout, password: string): Promise<void> {
  const role = sqlIdent(layout.user);
  const statements = [
    layout.user === 'postgres'
      ? `ALTER ROLE postgres PASSWORD ${sqlLiteral(password)};`
      : `DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sqlLiteral(layout.user)}) THEN CREATE ROLE ${role} LOGIN; END IF; END$$;`,
    `ALTER ROLE ${role} LOGIN PASSWORD ${sqlLiteral(password)};`,
    `CREATE DATABASE ${sqlIdent(layout.database)} OWNER ${role};`,
  ];
  const res = await runAsServer(join(layout.binDir, 'postgres'), ['--single', '-D', layout.dataDir, 'postgres'], statements.join('\n') + '\n');
  const errors = res.stderr.split('\n').filter((l) => /^\s*(ERROR|FATAL|PANIC):/.test(l) && !/already exists/.test(l));
  if (res.code !== 0 || errors.length > 0) {
    throw new PostgresKindError(
      `creating role ${layout.user} and database ${layout.database} in ${layout.dataDir} failed: ${redact(errors.join('; ') || `exit ${res.code}`, password)}`,
      'make sure no other postgres uses this volume, then run `symphony apply` again',
    );
  }
}

/**
 * Make the volume ready: directories owned by the server account, `initdb` when
 * PG_VERSION is missing (scram auth, password through a 0600 file removed after),
 * then the role and database, once. Idempotent.
 */
export async function preparePostgres(layout: PostgresLayout, volumePath: string, env: Record<string, string>): Promise<void> {
  const password = env[PASSWORD_ENV];
  if (!password || password.includes('${')) {
    throw new PostgresKindError(`prepare of ${volumePath}: ${PASSWORD_ENV} is missing or unresolved`, 'generate the secret first: symphony apply creates it on first run');
  }
  for (const dir of [volumePath, layout.socketDir]) {
    mkdirSync(dir, { recursive: true });
    ownByServer(dir);
  }
  chmodSync(layout.socketDir, 0o700);
  const probe = await runAsServer('test', ['-w', volumePath]);
  if (probe.code !== 0) {
    throw new PostgresKindError(
      `the postgres server account cannot write ${volumePath}`,
      `a new volume goes under /var/lib/symphony when the account cannot reach the state dir; this one is recorded here: let the account traverse its parents, or destroy --volumes to start over`,
    );
  }
  if (!existsSync(join(layout.dataDir, 'PG_VERSION'))) await initdb(layout, password);
  const marker = join(volumePath, BOOTSTRAP_MARKER);
  if (!existsSync(marker)) {
    await bootstrap(layout, password);
    writeFileSync(marker, new Date().toISOString() + '\n');
  }
}
