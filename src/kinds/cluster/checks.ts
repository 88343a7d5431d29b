import { probeOnce } from '../../health/probe.js';
import type { HealthCheck, ProbeResult } from '../../health/types.js';
import { baseEnv } from '../../runtime/process/launch.js';
import { sh } from '../../util/exec.js';
import type { CheckTemplate, MemberLayout } from './layout.js';

const HOST = '127.0.0.1';

function healthCheck(c: CheckTemplate, probe: Pick<HealthCheck, 'http' | 'tcp' | 'exec'>): HealthCheck {
  return { ...probe, intervalMs: c.timeoutMs, timeoutMs: c.timeoutMs, healthyThreshold: 1, unhealthyThreshold: 1, startTimeoutMs: c.timeoutMs };
}

/**
 * Run one rendered check (http URL, exec command, or tcp on a member's named
 * port) through the health probes. Never throws: the detail says what failed.
 */
export async function runCheck(c: CheckTemplate, member: MemberLayout | null, cwd: string): Promise<ProbeResult> {
  if (c.http !== undefined) {
    let url: URL;
    try {
      url = new URL(c.http);
    } catch {
      return { ok: false, detail: `http check: "${c.http}" is not a URL` };
    }
    const port = url.port === '' ? 80 : Number(url.port);
    return probeOnce(healthCheck(c, { http: `${url.pathname}${url.search}` }), { host: url.hostname, port });
  }
  if (c.tcp !== undefined) {
    const port = member?.ports[c.tcp];
    if (port === undefined) return { ok: false, detail: `tcp check: no port "${c.tcp}"${member ? ` on member ${member.ordinal}` : ''}` };
    return probeOnce(healthCheck(c, { tcp: true }), { host: HOST, port });
  }
  if (c.exec !== undefined) return probeOnce(healthCheck(c, { exec: c.exec }), { host: HOST, cwd });
  return { ok: false, detail: 'the check names no probe (http, exec or tcp)' };
}

/** True when the member's port of this name accepts a TCP connection. */
export async function portOpen(member: MemberLayout, port: string, timeoutMs: number): Promise<boolean> {
  const r = await probeOnce(healthCheck({ timeoutMs }, { tcp: true }), { host: HOST, port: member.ports[port] });
  return r.ok;
}

/** What a member's leader check said: the ordinal it names, or why it names none. */
export type LeaderReading = { ordinal: string; detail: string } | { ordinal: null; detail: string };

/**
 * Run a member's rendered leader check and map its first output line to a
 * member: an index (`0`), a name (`cache-0`), or one of a member's ports
 * (`7001` or `127.0.0.1:7001`).
 */
export async function readLeader(c: CheckTemplate, members: readonly MemberLayout[], cwd: string): Promise<LeaderReading> {
  const command = c.exec ?? '';
  const res = await sh(command, { cwd, env: baseEnv(), timeoutMs: c.timeoutMs }).catch((err: unknown) => ({ code: -1, signal: null, stdout: '', stderr: String(err) }));
  if (res.code !== 0) {
    const why = res.code === null ? `no answer within ${c.timeoutMs} ms` : `exit code ${res.code}${res.stderr.trim() ? `: ${res.stderr.trim().split('\n').pop()}` : ''}`;
    return { ordinal: null, detail: `leader check failed (${why})` };
  }
  const said = res.stdout.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const ordinal = leaderOrdinal(said, members);
  return ordinal ? { ordinal, detail: `leader ${ordinal}` } : { ordinal: null, detail: `leader check printed "${said.slice(0, 60)}", which names no member` };
}

/** The member a leader check's output names, or null. Pure. */
export function leaderOrdinal(said: string, members: readonly MemberLayout[]): string | null {
  if (said === '') return null;
  const byName = members.find((m) => m.name === said);
  if (byName) return byName.ordinal;
  if (/^\d+$/.test(said) && Number(said) < members.length) return members[Number(said)].ordinal;
  const port = Number(/^(?:[\w.-]+:)?(\d+)$/.exec(said)?.[1] ?? NaN);
  return members.find((m) => Object.values(m.ports).includes(port))?.ordinal ?? null;
}
