import { isIP } from 'node:net';
import { z } from 'zod';

/** Where the agent serves `/metrics`. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The `observability:` section, as validated. */
export interface ObservabilityConfig {
  metrics: ListenAddress | null;
}

/**
 * `host:port` with the host written out: an IPv4 or IPv6 address (`[::1]:9464`) or
 * `localhost`. A bare port is refused so that no one exposes the metrics on every
 * interface by leaving the host out; `0.0.0.0:9464` says so explicitly.
 */
export function parseListen(text: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return /^\d+$/.test(text) ? `must name the host too, such as 127.0.0.1:${text}` : 'must be host:port, such as 127.0.0.1:9464';
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!host) return `must name the host, such as 127.0.0.1:${m[3]}`;
  if (m[1] !== undefined && isIP(host) !== 6) return `must hold an IPv6 address inside [ ], not ${host}`;
  if (m[1] === undefined && host !== 'localhost' && isIP(host) !== 4) return `must have an IP address or localhost as host, not ${host}`;
  if (port < 1 || port > 65535) return `must have a port from 1 to 65535, not ${m[3]}`;
  return { host, port };
}

/** True for an address only this machine can reach. */
export function isLoopback(a: ListenAddress): boolean {
  return a.host === 'localhost' || a.host === '::1' || /^127\./.test(a.host);
}

export const formatListen = (a: ListenAddress): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

// A number is taken in too, so that `metrics: 9464` is told to name its host.
const Listen = z
  .union([z.string(), z.number()], { error: 'must be host:port, such as 127.0.0.1:9464' })
  .transform((text, ctx) => {
    const parsed = parseListen(String(text));
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  })
  .describe('host:port where the agent serves Prometheus metrics at /metrics, such as 127.0.0.1:9464');

/** The `observability:` section of the stack file (see docs/observe.md). */
export const ObservabilitySpec = z
  .strictObject({
    metrics: Listen.optional(),
  })
  .describe('What the agent exports about the running stack');

/** The section as the rest of Symphony sees it; null when the stack file has none. */
export function observabilityOf(section: z.output<typeof ObservabilitySpec> | undefined): ObservabilityConfig | null {
  return section ? { metrics: section.metrics ?? null } : null;
}
