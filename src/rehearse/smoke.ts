import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { parse } from 'yaml';
import { z } from 'zod';
import { resolveValue, type Attributes } from '../plan/resolve.js';
import { findReferences, KIND_ATTRIBUTES, type ServiceKindName } from '../spec/references.js';
import { SmokeCheck, type Smoke } from '../spec/schema.js';
import { parseDuration } from '../util/duration.js';
import { sh } from '../util/exec.js';

/** The outcome of one smoke check on the copy. Never holds a secret value. */
export interface SmokeResult {
  name: string;
  passed: boolean;
  detail: string;
}

/** The `smoke:` list of a stack file (validated by the loader already). */
export function readSmoke(stackFile: string): Smoke[] {
  const raw = parse(readFileSync(stackFile, 'utf8')) as { smoke?: unknown } | null;
  return z.array(SmokeCheck).parse(raw?.smoke ?? []);
}

/** References of the checks that name no service or no attribute of its kind; empty when all resolve. */
export function smokeProblems(checks: Smoke[], kinds: Record<string, ServiceKindName>): string[] {
  const out: string[] = [];
  checks.forEach((c, i) => {
    for (const ref of findReferences(c.http ?? c.exec ?? '')) {
      if (ref.service === 'secrets') continue;
      const kind = kinds[ref.service];
      if (!kind) out.push(`smoke[${i}]: ${ref.raw} names no service (services: ${Object.keys(kinds).sort().join(', ')})`);
      else if (!KIND_ATTRIBUTES[kind].includes(ref.attr)) out.push(`smoke[${i}]: ${ref.raw}: ${kind} service has no attribute ${ref.attr}`);
    }
  });
  return out;
}

export interface SmokeContext {
  /** Attributes of the copy's services (its ports and routes). */
  attrs: Attributes;
  /** Replaces `${secrets.NAME}` with the copy's values. */
  secret: (template: string) => string;
  /** Secret values to mask in anything reported. */
  secrets: string[];
  cwd: string;
}

function mask(text: string, secrets: string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join('(secret)'), text);
}

async function httpCheck(url: string, c: Smoke, timeoutMs: number): Promise<{ passed: boolean; detail: string }> {
  const want = c.expect ?? 200;
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.body.text();
    if (res.statusCode !== want) return { passed: false, detail: `HTTP ${res.statusCode}, expected ${want}: ${body.slice(0, 200)}` };
    if (c.contains !== undefined && !body.includes(c.contains)) return { passed: false, detail: `HTTP ${res.statusCode} but the body lacks "${c.contains}": ${body.slice(0, 200)}` };
    return { passed: true, detail: `HTTP ${res.statusCode}` };
  } catch (err) {
    return { passed: false, detail: `GET failed: ${(err as Error).message}` };
  }
}

async function execCheck(command: string, c: Smoke, timeoutMs: number, cwd: string): Promise<{ passed: boolean; detail: string }> {
  const want = c.expect ?? 0;
  const res = await sh(command, { cwd, timeoutMs });
  const out = (res.stdout + res.stderr).trim();
  if (res.code !== want) return { passed: false, detail: `exit ${res.code ?? res.signal}, expected ${want}: ${out.slice(-300)}` };
  if (c.contains !== undefined && !out.includes(c.contains)) return { passed: false, detail: `exit ${res.code} but the output lacks "${c.contains}": ${out.slice(-300)}` };
  return { passed: true, detail: `exit ${res.code}` };
}

/** Run every check once, in order, against the copy. */
export async function runSmoke(checks: Smoke[], ctx: SmokeContext): Promise<SmokeResult[]> {
  const out: SmokeResult[] = [];
  for (const [i, c] of checks.entries()) {
    const template = c.http ?? c.exec ?? '';
    const name = c.name ?? (c.http ? `GET ${c.http}` : c.exec ?? `smoke[${i}]`);
    const timeoutMs = parseDuration(c.timeout, 10_000);
    let r: { passed: boolean; detail: string };
    try {
      const resolved = ctx.secret(resolveValue(template, ctx.attrs, `smoke[${i}]`));
      r = c.http ? await httpCheck(resolved, c, timeoutMs) : await execCheck(resolved, c, timeoutMs, ctx.cwd);
    } catch (err) {
      r = { passed: false, detail: (err as Error).message };
    }
    out.push({ name, passed: r.passed, detail: mask(r.detail, ctx.secrets) });
  }
  return out;
}
