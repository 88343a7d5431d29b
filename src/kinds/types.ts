import type { HealthCheck, ProbeResult } from '../health/types.js';
import type { RuntimeDriver } from '../runtime/types.js';
import type { ClusterProbe } from '../strategies/cluster-rolling/types.js';
import type { Account } from '../volumes/reach.js';

/**
 * What a service kind means: which instances a release has, which ports stay
 * stable across releases, how health is judged, what dependants may reference.
 * Everything but `prepare` and `probe` is pure.
 */
export interface KindContext {
  stack: string;
  env: string;
  service: string;
  /** The validated service section of the stack file (kind-specific shape). */
  spec: Record<string, unknown>;
  /** Absolute directory of the stack file. */
  stackDir: string;
  /** Absolute path of the service's volume (or of the volumes root for per-member volumes). */
  volumePath: string | null;
  /** Stable ports already allocated to this service, by name (see `stablePorts`). */
  ports: Record<string, number>;
  /** A route of the environment sends traffic to this service (known when planning). */
  routed?: boolean;
}

export interface InstanceDraft {
  /** Suffix that makes the instance id unique within the release: `0`, `1`, `m2`… */
  ordinal: string;
  command: string;
  cwd: string;
  /** Env without secrets substituted: `${secrets.NAME}` placeholders stay in. */
  env: Record<string, string>;
  /** Stable port of this instance (members keep their ports); omitted = assigned at start. */
  port?: number;
  /** Volume directory this instance owns (kept across replacements). */
  volumePath?: string;
  /** Signal that stops it gracefully (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** It holds the other instances' clients while they restart (a pooler): replaced first, never held itself. */
  holds?: boolean;
}

/** What a new release's health gate checks, and how to change it. */
export interface HealthRule {
  /** `tcp on $PORT every 1000ms (default: a route targets web)`. */
  rule: string;
  /** How to judge it differently, for the message of a failed gate. */
  change: string;
}

/**
 * How a kind replaced in place (postgres) changes its running instance: without a new
 * process when it can, and with its dependants' connections held when it cannot.
 */
export interface InPlaceHooks {
  /** Apply the change from one release to the next to the running instance; `reloaded: false` when a new process is needed. */
  reload(from: KindContext, to: KindContext, env: Record<string, string>): Promise<{ reloaded: boolean; detail: string }>;
  /**
   * Run `restart` (stop the old server, start the new one, wait until it is healthy)
   * while dependants' connections are held rather than refused, e.g. by a pooler's
   * PAUSE … RESUME; `held` says whether they were.
   */
  hold<T>(ctx: KindContext, env: Record<string, string>, restart: () => Promise<T>): Promise<{ result: T; held: boolean; detail: string }>;
  /** Let held connections through (a hold a crashed agent left); a no-op when nothing is held. */
  resume(ctx: KindContext, env: Record<string, string>): Promise<void>;
}

export type ReplaceMode = 'blue-green' | 'in-place' | 'cluster-rolling';

export interface ServiceKind {
  readonly name: string;
  /** Names of ports allocated once per service and kept across releases. */
  stablePorts(ctx: Omit<KindContext, 'ports'>): string[];
  /** Instances of one release of this service. */
  instances(ctx: KindContext): InstanceDraft[];
  /** Values dependants may reference as `${service.attr}`; secret-bearing values keep placeholders. */
  attributes(ctx: KindContext): Record<string, string>;
  /** How a new release replaces the old one. */
  replaceMode(ctx: KindContext): ReplaceMode;
  /** Per-instance health check, or null when the kind judges health with `probe`. */
  health(ctx: KindContext): HealthCheck | null;
  /**
   * The rule a release is judged by, in one line for plans and failed health gates,
   * with where it comes from (the stack file or a default). Pure.
   */
  healthRule(ctx: KindContext, check: HealthCheck | null): HealthRule;
  /**
   * The OS account the kind's server runs as when it is not Symphony's own
   * (postgres as root), which must reach the volume; null when none. Does I/O
   * (an account lookup): called by the CLI when it gathers the planner's inputs.
   */
  volumeAccount?(): Account | null;
  /** Secrets this kind generates on first apply (e.g. a database password), by name. */
  generatedSecrets?(ctx: Omit<KindContext, 'ports'>): string[];
  /** Side effects before instances start, e.g. initdb into an empty volume. Idempotent. */
  prepare?(ctx: KindContext, env: Record<string, string>, driver: RuntimeDriver): Promise<void>;
  /** Kind-specific probe of one instance (used when `health` returns null). */
  probe?(ctx: KindContext, draft: InstanceDraft, env: Record<string, string>): Promise<ProbeResult>;
  /** Reload instead of restart, and hold dependants around a restart (in-place kinds). */
  inPlace?: InPlaceHooks;
  /** Whole-cluster view for cluster-rolling replacement (etcd and other replicated kinds). */
  cluster?(ctx: KindContext): ClusterProbe;
}
