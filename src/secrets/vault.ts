import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import { now } from '../state/db.js';
import type { StateStore } from '../state/store.js';

/** What plans, status and logs show instead of a secret value. */
export const MASK = '(secret)';
const PLACEHOLDER = /\$\{secrets\.([A-Za-z0-9_.-]+)\}/g;

/**
 * Secrets encrypted at rest (AES-256-GCM) in the state store; the key lives in
 * `<state>/secret.key` (0600). Plans carry only placeholders and HMAC digests.
 */
export class SecretVault {
  private readonly key: Buffer;

  constructor(private readonly store: StateStore) {
    this.key = loadOrCreateKey(join(store.dir, 'secret.key'));
  }

  set(env: string, name: string, value: string): boolean {
    const digest = this.hmac(value);
    const cur = this.store.db.prepare(`SELECT digest FROM secrets WHERE env = ? AND name = ?`).get(env, name) as { digest: string } | undefined;
    if (cur?.digest === digest) return false;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const blob = Buffer.concat([iv, cipher.getAuthTag(), body]);
    this.store.db
      .prepare(
        `INSERT INTO secrets (env, name, digest, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (env, name) DO UPDATE SET digest = excluded.digest, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      )
      .run(env, name, digest, blob, now());
    return true;
  }

  /** Generate a random value once (e.g. a database password); later calls keep it. */
  ensureGenerated(env: string, name: string): void {
    if (!this.digest(env, name)) this.set(env, name, randomBytes(18).toString('base64url'));
  }

  get(env: string, name: string): string {
    const row = this.store.db.prepare(`SELECT ciphertext FROM secrets WHERE env = ? AND name = ?`).get(env, name) as { ciphertext: Buffer } | undefined;
    if (!row) throw new NotFoundError(`secret ${name} is not set in environment ${env}`, 'declare it under `secrets:` in the stack file and run symphony apply');
    const blob = row.ciphertext;
    const decipher = createDecipheriv('aes-256-gcm', this.key, blob.subarray(0, 12));
    decipher.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** HMAC of the value, safe to put in plans: changes when the value changes. */
  digest(env: string, name: string): string | null {
    const row = this.store.db.prepare(`SELECT digest FROM secrets WHERE env = ? AND name = ?`).get(env, name) as { digest: string } | undefined;
    return row?.digest ?? null;
  }

  digests(env: string): Record<string, string> {
    const rows = this.store.db.prepare(`SELECT name, digest FROM secrets WHERE env = ? ORDER BY name`).all(env) as Array<{ name: string; digest: string }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
  }

  hmac(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('hex').slice(0, 16);
  }

  /** Replace `${secrets.NAME}` placeholders with real values, for an instance's environment only. */
  substitute(env: string, template: string): string {
    return template.replace(PLACEHOLDER, (_, name: string) => this.get(env, name));
  }

  /** Every decrypted value of an environment, so a caller can scrub text it did not produce. */
  values(env: string): string[] {
    const rows = this.store.db.prepare(`SELECT name FROM secrets WHERE env = ?`).all(env) as Array<{ name: string }>;
    return rows.map((r) => this.get(env, r.name));
  }
}

/** Show a template with its placeholders masked. */
export function maskSecrets(text: string): string {
  return text.replace(PLACEHOLDER, MASK);
}

export function hasSecret(text: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(text);
}

function loadOrCreateKey(file: string): Buffer {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const key = randomBytes(32);
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('base64'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}
