import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { ConnPool } from './conn-pool.js';
import type { Upstream } from './types.js';
import type { UpstreamLoad } from './table.js';

/** Failed active checks in a row before an upstream is taken out. */
export const UNHEALTHY_AFTER = 2;
/**
 * Idle upstream sockets are closed after this long: below Node's default server
 * keep-alive timeout (5 s), so we rarely reuse a socket the upstream is closing.
 */
export const IDLE_SOCKET_MS = 4000;

/** Live state of one upstream address, shared by every route and config version that names it. */
export class UpstreamState implements UpstreamLoad {
  healthy = true;
  inFlight = 0;
  failures = 0;
  lastError: string | null = null;
  probing = false;
  /** Set by the latest config: GET this path to check health, or undefined for a TCP connect. */
  healthPath: string | undefined;
  /** Keep-alive connections to this upstream (undici: no per-request socket bookkeeping in JS streams). */
  readonly pool: Pool;
  /** Keep-alive connections of the fast path (raw sockets). */
  readonly conns: ConnPool;

  constructor(readonly key: string, readonly host: string, readonly port: number) {
    this.pool = new Pool(`http://${key}`, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: IDLE_SOCKET_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_MS,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.pool.on('connectionError', () => undefined);
    this.conns = new ConnPool(host, port);
  }

  /** Passive check: the upstream refused a connection, take it out now. */
  markDown(reason: string): void {
    this.healthy = false;
    this.failures = UNHEALTHY_AFTER;
    this.lastError = reason;
  }

  recordProbe(ok: boolean, detail: string): void {
    if (ok) {
      this.healthy = true;
      this.failures = 0;
      return;
    }
    this.failures++;
    this.lastError = detail;
    if (this.failures >= UNHEALTHY_AFTER) this.healthy = false;
  }

  close(): void {
    this.pool.destroy().catch(() => undefined);
    this.conns.close();
  }
}

/** Upstream states by `host:port`; states no route names any more are closed once idle. */
export class UpstreamRegistry {
  private readonly states = new Map<string, UpstreamState>();
  private active = new Set<string>();

  resolve(u: Upstream): UpstreamState {
    const key = `${u.host}:${u.port}`;
    let state = this.states.get(key);
    if (!state) {
      state = new UpstreamState(key, u.host, u.port);
      this.states.set(key, state);
    }
    return state;
  }

  /** Declare which upstreams the current config names; others are closed when nothing is in flight. */
  setActive(keys: Set<string>): void {
    this.active = keys;
    this.prune();
  }

  prune(): void {
    for (const [key, state] of this.states) {
      if (!this.active.has(key) && state.inFlight === 0) {
        state.close();
        this.states.delete(key);
      }
    }
  }

  /** Upstreams named by the current config. */
  current(): UpstreamState[] {
    const out: UpstreamState[] = [];
    for (const key of this.active) {
      const s = this.states.get(key);
      if (s) out.push(s);
    }
    return out;
  }

  /** Close fast-path connections idle too long. */
  sweepIdle(): void {
    const now = performance.now();
    for (const s of this.states.values()) s.conns.sweep(now);
  }

  all(): UpstreamState[] {
    return [...this.states.values()];
  }

  closeAll(): void {
    for (const s of this.states.values()) s.close();
    this.states.clear();
  }
}
