import type { Logger } from '../util/log.js';
import type { Journal } from '../state/journal.js';
import type { StateStore } from '../state/store.js';
import type { SecretVault } from '../secrets/vault.js';
import type { RuntimeDriver } from '../runtime/types.js';
import type { PlanRoute } from '../plan/types.js';

export interface Upstream {
  id: string;
  host: string;
  port: number;
}

/** How the executor moves traffic. Implemented over the router's control API. */
export interface TrafficControl {
  /** Point a route at one release (weight 100), or split it between several. Atomic. */
  setBackends(route: PlanRoute, backends: Array<{ release: string; weight: number; upstreams: Upstream[] }>, sticky?: 'cookie' | 'hash' | null): Promise<void>;
  /** What the router measured for a release over its recent window. */
  releaseStats(release: string): Promise<{ requests: number; errors: number; p99Ms: number | null }>;
  removeRoutesOf(env: string, service: string): Promise<void>;
  /** Give every route that sends to `release` these upstreams for it (weights, timeouts and other backends kept). */
  setUpstreams(release: string, upstreams: Upstream[]): Promise<void>;
  /** Requests in flight on a release (0 when the router has none). */
  inFlight(release: string): Promise<number>;
  closeLongLived(release: string): Promise<number>;
}

/** What an operation's steps may use. */
export interface ExecDeps {
  stateDir: string;
  store: StateStore;
  journal: Journal;
  vault: SecretVault;
  driver: RuntimeDriver;
  traffic: () => Promise<TrafficControl | null>;
  log: Logger;
  /** Step names at which the agent exits abruptly, for fault-injection tests. */
  failpoints: Set<string>;
  /** Progress lines of an operation, streamed to attached CLIs. */
  progress: (operationId: string, line: string) => void;
}

export function logDirOf(stateDir: string): string {
  return `${stateDir}/logs`;
}

/** Parse SYMPHONY_FAILPOINTS: comma-separated step names, `name` or `name:before`. */
export function parseFailpoints(value: string | undefined): Set<string> {
  return new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}
